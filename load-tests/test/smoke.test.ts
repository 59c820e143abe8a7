// The smoke mode CI runs: every catalogue scenario against legacy, modern and gateway, a few
// requests each, asserting correctness only (zero errors, samples everywhere, report files).
// The targets are in-test fakes until the real apps export createApp (see real-apps.test.ts).
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestServer } from '@pilot/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Catalogue, loadCatalogue } from '../src/catalogue.ts';
import { runCompare } from '../src/compare.ts';
import type { StackStarter } from '../src/stack.ts';
import { startFakeService } from './fake-service.ts';

const catalogue = loadCatalogue();
const creds = {
  slug: String(catalogue.vars.slug),
  username: String(catalogue.vars.loginUsername),
  password: String(catalogue.vars.loginPassword),
};

/** The shipped catalogue with 1 s smoke runs, so the whole matrix fits a CI test. */
function quickSmoke(c: Catalogue): Catalogue {
  return {
    ...c,
    defaults: { ...c.defaults, smoke: { rate: 5, duration: '1s' } },
    scenarios: c.scenarios.map(({ smoke: _unused, ...rest }) => rest),
  };
}

let reportsRoot: string;
const servers: TestServer[] = [];
beforeAll(() => {
  reportsRoot = mkdtempSync(join(tmpdir(), 'pilot-smoke-'));
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  rmSync(reportsRoot, { recursive: true, force: true });
});

async function fakeTargets() {
  const legacy = await startFakeService({ ...creds, events: false });
  const modern = await startFakeService({ ...creds, events: true });
  const gateway = await startFakeService({ ...creds, events: true, backendHeader: 'modern' });
  servers.push(legacy, modern, gateway);
  return { legacy: legacy.url, modern: modern.url, gateway: gateway.url };
}

describe('compare --smoke (fake services)', () => {
  it('runs every scenario against every applicable target with zero errors and writes the report', async () => {
    const lines: string[] = [];
    const { report, files, problems } = await runCompare({
      mode: 'smoke',
      catalogue: quickSmoke(catalogue),
      urls: await fakeTargets(),
      reportsRoot,
      log: (line) => lines.push(line),
      env: {},
    });
    expect(problems).toEqual([]);
    const expected = catalogue.scenarios.flatMap((s) => s.targets.map((t) => `${s.name}/${t}`));
    expect(report.runs.map((r) => `${r.scenario}/${r.target}`).sort()).toEqual(expected.sort());
    expect(expected).not.toContain('sse-subscribe/legacy');
    for (const run of report.runs) {
      expect(run.latency.count, `${run.scenario} → ${run.target}`).toBeGreaterThan(0);
      expect(run.errors, `${run.scenario} → ${run.target}: ${run.errorSamples.join(' | ')}`).toBe(0);
    }
    // every step of the auth chain ran
    const auth = report.runs.find((r) => r.scenario === 'auth-refresh' && r.target === 'modern')!;
    expect(Object.values(auth.steps).every((s) => s.requests > 0)).toBe(true);
    // upstream calls come from the services' /metrics (the fakes count a write as one call)
    const write = report.runs.find((r) => r.scenario === 'write-accepted' && r.target === 'legacy')!;
    expect(write.upstreamCalls).toBe(write.requests);
    // the gateway is compared with the backend its header named
    expect(
      report.ratios.find((r) => r.scenario === 'cached-read' && r.numerator === 'gateway'),
    ).toMatchObject({
      denominator: 'modern',
      basis: 'backend header',
    });
    // files
    for (const file of [files.json, files.html, files.text]) expect(existsSync(file)).toBe(true);
    expect(files.dir.startsWith(reportsRoot)).toBe(true);
    expect(JSON.parse(readFileSync(files.json, 'utf8')).runs).toHaveLength(report.runs.length);
    expect(readFileSync(files.html, 'utf8')).toContain('<svg');
    // progress: a line per step with elapsed time, then the table
    expect(lines.filter((l) => /^\[\s*\d+\.\ds\]\s+\d+\/\d+ /.test(l))).toHaveLength(report.runs.length);
    expect(lines.some((l) => /^\[\s*\d+\.\ds\] warm-up legacy: \d+ requests, 0 errors$/.test(l))).toBe(true);
    expect(lines.join('\n')).toMatch(
      /scenario +\| target +\| offered it\/s \| req\/s \| +p50 \| +p99 \| errors \| CPU-s\/1k req own · path \| peak RSS \| generator/,
    );
    expect(lines.join('\n')).toMatch(/capacity at SLO/);
  }, 180_000);

  it('reports problems when a target misbehaves (the smoke assertion has teeth)', async () => {
    const broken = await startFakeService({ ...creds, slug: 'some-other-slug', events: true }); // cached read → 404
    servers.push(broken);
    const { problems, report } = await runCompare({
      mode: 'smoke',
      catalogue: quickSmoke(catalogue),
      urls: { modern: broken.url },
      scenarios: ['cached-read', 'write-rejected'],
      warmup: false,
      reportsRoot,
      log: () => {},
      env: {},
    });
    expect(report.runs.map((r) => r.scenario)).toEqual(['cached-read', 'write-rejected']);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/cached-read → modern: \d+ errors \(read status 404\)/);
  });

  it('starts the stack through the pluggable starter, handing it delayed /aggregate upstreams', async () => {
    let seenEnv: Record<string, string> = {};
    let stopped = false;
    let seenSkip: string[] = [];
    const starter: StackStarter = async ({ env, skip }) => {
      seenEnv = env;
      seenSkip = skip;
      const urls = await fakeTargets();
      return {
        urls,
        stop: async () => {
          stopped = true;
        },
      };
    };
    const { report } = await runCompare({
      mode: 'smoke',
      catalogue: quickSmoke(catalogue),
      startStack: starter,
      probe: async () => false, // nothing runs on the default ports (whatever this machine has there)
      scenarios: ['list-paging'],
      targets: ['legacy', 'modern'],
      aggregateDelayMs: 20,
      warmup: false,
      reportsRoot,
      log: () => {},
      env: {},
    });
    expect(stopped).toBe(true);
    expect(report.stackSource).toBe('started by compare: legacy, modern');
    expect(Object.keys(seenEnv).sort()).toEqual(['AGGREGATE_QUOTE_URL', 'AGGREGATE_WEATHER_URL']);
    expect(seenSkip.sort()).toEqual(['gateway', 'upstreams']); // the cms did not answer either: started too
    expect(report.runs.map((r) => r.target)).toEqual(['legacy', 'modern']);
    // the upstreams were closed with the run
    await expect(fetch(seenEnv.AGGREGATE_WEATHER_URL!)).rejects.toThrow();
  });
});

describe('compare interrupted (fake services)', () => {
  it('stops at once when aborted and still stops the stack it started', async () => {
    const interrupt = new AbortController();
    let stopped = false;
    const starter: StackStarter = async () => {
      const urls = await fakeTargets();
      interrupt.abort(new Error('interrupted (SIGINT)')); // Ctrl-C while the stack came up
      return {
        urls,
        stop: async () => {
          stopped = true;
        },
      };
    };
    await expect(
      runCompare({
        mode: 'smoke',
        catalogue: quickSmoke(catalogue),
        startStack: starter,
        probe: async () => false,
        signal: interrupt.signal,
        reportsRoot,
        log: () => {},
        env: {},
      }),
    ).rejects.toThrow('interrupted (SIGINT)');
    expect(stopped).toBe(true);
  });
});
