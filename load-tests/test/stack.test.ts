// How compare finds its targets: env URLs, then default ports, then it starts exactly what is
// missing (importing the repository's starter), or names what is missing and stops.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  DEFAULT_URLS,
  importStackStarter,
  MissingTargetsError,
  resolveTargets,
  STACK_MODULE,
  type StackStartOptions,
  type StackStarter,
} from '../src/stack.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A probe that answers for exactly these URLs. */
const up =
  (...urls: string[]) =>
  async (url: string) =>
    urls.includes(url);

function recordingStarter(): { starter: StackStarter; calls: StackStartOptions[]; stopped: () => boolean } {
  const calls: StackStartOptions[] = [];
  let stopped = false;
  return {
    calls,
    stopped: () => stopped,
    starter: async (options) => {
      calls.push(options);
      return {
        urls: {
          legacy: 'http://127.0.0.1:4001',
          modern: 'http://127.0.0.1:4002',
          gateway: 'http://127.0.0.1:4080',
        },
        stop: async () => {
          stopped = true;
        },
      };
    },
  };
}

const base = {
  env: {},
  start: true,
  log: () => {},
  starterEnv: async () => ({ AGGREGATE_WEATHER_URL: 'http://x' }),
};

describe('finding the targets', () => {
  it('uses what answers on the default ports and starts nothing when all are there', async () => {
    const { starter, calls } = recordingStarter();
    const resolved = await resolveTargets({
      ...base,
      wanted: ['legacy', 'modern', 'gateway'],
      starter,
      probe: up(...Object.values(DEFAULT_URLS)),
    });
    expect(resolved.urls).toEqual(DEFAULT_URLS);
    expect(resolved.sources).toEqual({ legacy: 'running', modern: 'running', gateway: 'running' });
    expect(resolved.stack).toBeNull();
    expect(calls).toEqual([]);
  });

  it('starts only what is missing, skipping what runs, and points a started gateway at the running backends', async () => {
    const { starter, calls } = recordingStarter();
    const resolved = await resolveTargets({
      ...base,
      wanted: ['legacy', 'modern', 'gateway'],
      starter,
      probe: up(DEFAULT_URLS.legacy, DEFAULT_URLS.modern, 'http://127.0.0.1:1337'),
    });
    expect(calls).toHaveLength(1);
    expect(calls[0]!.skip.sort()).toEqual(['cms', 'legacy', 'modern', 'upstreams']);
    expect(calls[0]!.env).toMatchObject({
      LEGACY_URL: DEFAULT_URLS.legacy,
      MODERN_URL: DEFAULT_URLS.modern,
      AGGREGATE_WEATHER_URL: 'http://x',
    });
    expect(resolved.urls).toEqual({ ...DEFAULT_URLS, gateway: 'http://127.0.0.1:4080' });
    expect(resolved.sources).toEqual({ legacy: 'running', modern: 'running', gateway: 'started' });
  });

  it('a missing gateway brings its backends even when only the gateway is wanted', async () => {
    const { starter, calls } = recordingStarter();
    await resolveTargets({ ...base, wanted: ['gateway'], starter, probe: up() });
    expect(calls[0]!.skip).toEqual(['upstreams']);
  });

  it('env URLs are used as given, and must answer', async () => {
    const env = { MODERN_URL: 'http://127.0.0.1:5002/' };
    const resolved = await resolveTargets({
      ...base,
      env,
      wanted: ['modern'],
      probe: up('http://127.0.0.1:5002'),
    });
    expect(resolved.urls).toEqual({ modern: 'http://127.0.0.1:5002' });
    expect(resolved.sources).toEqual({ modern: 'env' });
    await expect(resolveTargets({ ...base, env, wanted: ['modern'], probe: up() })).rejects.toThrow(
      /MODERN_URL=http:\/\/127\.0\.0\.1:5002 does not answer \/health/,
    );
  });

  it('with --no-start it names exactly what is missing and starts nothing', async () => {
    const { starter, calls } = recordingStarter();
    const error = await resolveTargets({
      ...base,
      start: false,
      wanted: ['legacy', 'modern', 'gateway'],
      starter,
      probe: up(DEFAULT_URLS.legacy),
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MissingTargetsError);
    expect((error as MissingTargetsError).missing).toEqual(['modern', 'gateway']);
    expect((error as Error).message).toMatch(
      /^not running: modern \(nothing answers http:\/\/127\.0\.0\.1:3002\/health and MODERN_URL is not set\); gateway \(/,
    );
    expect(calls).toEqual([]);
  });
});

describe("the repository's stack starter", () => {
  it('is found by importing scripts/stack/start.ts, which exports startStack()', async () => {
    const mod = (await import(STACK_MODULE)) as { startStack?: unknown };
    expect(typeof mod.startStack).toBe('function');
    expect(typeof (await importStackStarter(['gateway']))).toBe('function');
  });

  it('a module without startStack() is refused with the missing targets named', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pilot-stack-'));
    dirs.push(dir);
    const file = join(dir, 'start.ts');
    writeFileSync(file, 'export const notIt = 1;\n');
    await expect(importStackStarter(['modern'], file)).rejects.toThrow(
      /not running: modern .*exports no startStack\(\) function/,
    );
    await expect(importStackStarter(['modern'], join(dir, 'absent.ts'))).rejects.toThrow(
      /There is no stack starter at/,
    );
  });
});
