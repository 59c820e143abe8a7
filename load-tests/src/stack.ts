// How `pnpm compare` gets targets when no URLs are given: a pluggable stack starter.
//
// Order: services already answering on the embedded default ports are used as they are;
// otherwise the root scripts/stack.ts `startStack()` starts cms, legacy, modern and gateway
// (compare hands it the /aggregate upstreams through `env` and skips the stack's own demo
// upstreams). Its contract, as used here:
//   startStack(options?: { env?: Record<string, string>; log?: (line: string) => void;
//                          skip?: string[] }) : Promise<{ urls: { legacy, modern, gateway, ... }; stop() }>
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Target } from './catalogue.ts';

export type TargetUrls = Partial<Record<Target, string>>;

export interface StartedStack {
  urls: TargetUrls;
  /** How the targets were obtained, for the report. */
  source: 'env' | 'started' | 'default-ports';
  stop(): Promise<void>;
}

export interface StackStartOptions {
  /** Extra environment for the services (the /aggregate upstream URLs). */
  env: Record<string, string>;
  log: (line: string) => void;
}

export type StackStarter = (options: StackStartOptions) => Promise<StartedStack>;

/** Embedded default ports (docs/conventions.md). */
export const DEFAULT_URLS: Record<Target, string> = {
  legacy: 'http://127.0.0.1:3001',
  modern: 'http://127.0.0.1:3002',
  gateway: 'http://127.0.0.1:8080',
};

export const ENV_NAMES: Record<Target, string> = {
  legacy: 'LEGACY_URL',
  modern: 'MODERN_URL',
  gateway: 'GATEWAY_URL',
};

const ROOT_STACK = join(import.meta.dirname, '..', '..', 'scripts', 'stack.ts');

/** Target URLs given in the environment (LEGACY_URL, MODERN_URL, GATEWAY_URL). */
export function urlsFromEnv(env: Record<string, string | undefined> = process.env): TargetUrls {
  const urls: TargetUrls = {};
  for (const [target, name] of Object.entries(ENV_NAMES) as Array<[Target, string]>) {
    const value = env[name];
    if (value) urls[target] = value.replace(/\/+$/, '');
  }
  return urls;
}

/** Lines of the stack's combined log worth showing during a load run (not per-request logs). */
const STACK_LOG = /starting|ready at|exited|stopping|not present|skipped|error|fatal|stack:/i;

/** The default starter: services on the default ports, else the root scripts/stack.ts. */
export const startStack: StackStarter = async (options) => {
  const running: TargetUrls = {};
  for (const [target, url] of Object.entries(DEFAULT_URLS) as Array<[Target, string]>) {
    if (await answers(url)) running[target] = url;
  }
  if (Object.keys(running).length > 0) {
    options.log(`using services already running on default ports: ${Object.keys(running).join(', ')}`);
    return { urls: running, source: 'default-ports', stop: async () => {} };
  }
  const root = await importRootStarter();
  if (root) {
    options.log('starting the stack via scripts/stack.ts (cms, legacy, modern, gateway)');
    const started = (await root({
      // Per-request logging would cost the services CPU the load run is measuring.
      // No admin panel either: load runs only need the API.
      env: { LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn', CMS_ADMIN: 'off', ...options.env },
      log: (line: string) => {
        if (STACK_LOG.test(line)) options.log(line);
      },
      skip: ['upstreams'],
    })) as Record<string, unknown>;
    const urls = pickUrls((started.urls as Record<string, unknown> | undefined) ?? started);
    const stopFn = (started.stop ?? started.close) as (() => Promise<void>) | undefined;
    if (Object.keys(urls).length === 0)
      throw new Error('scripts/stack.ts startStack() returned no legacy/modern/gateway URLs');
    return { urls, source: 'started', stop: async () => stopFn?.call(started) };
  }
  throw new Error(
    'no targets: set LEGACY_URL / MODERN_URL / GATEWAY_URL, or start the stack (pnpm dev) on the default ports ' +
      '3001/3002/8080 (scripts/stack.ts exports no startStack)',
  );
};

async function importRootStarter(): Promise<((options: unknown) => Promise<unknown>) | null> {
  if (!existsSync(ROOT_STACK)) return null;
  // Import only a module that exports the function: the file may also be a CLI entry point.
  const text = readFileSync(ROOT_STACK, 'utf8');
  if (!/export\s+(async\s+)?function\s+startStack\b|export\s*\{[^}]*\bstartStack\b/.test(text)) return null;
  const mod = (await import(pathToFileURL(ROOT_STACK).href)) as { startStack?: unknown };
  return typeof mod.startStack === 'function'
    ? (mod.startStack as (options: unknown) => Promise<unknown>)
    : null;
}

function pickUrls(value: Record<string, unknown>): TargetUrls {
  const urls: TargetUrls = {};
  for (const target of Object.keys(DEFAULT_URLS) as Target[]) {
    const url = value[target];
    if (typeof url === 'string' && url) urls[target] = url.replace(/\/+$/, '');
  }
  return urls;
}

async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
    await res.body?.cancel();
    return res.status < 500;
  } catch {
    return false;
  }
}
