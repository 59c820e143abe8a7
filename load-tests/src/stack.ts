// How `pnpm compare` gets targets when no URLs are given: a pluggable stack starter.
//
// The root scripts/stack.ts (owned by the lead) is expected to export
//   startStack(options?: { env?: Record<string, string>; log?: (line: string) => void })
//     : Promise<{ urls: { legacy: string; modern: string; gateway: string }; stop(): Promise<void> }>
// (`close()` instead of `stop()` and the URLs at the top level are accepted too). compare
// passes the /aggregate delayed upstreams through `env` (AGGREGATE_*_URL). Until that export
// exists, services already listening on the embedded default ports are used.
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

/** The default starter: the root scripts/stack.ts export when present, else the default ports. */
export const startStack: StackStarter = async (options) => {
  const root = await importRootStarter();
  if (root) {
    options.log(`starting the stack via scripts/stack.ts`);
    const started = (await root({ env: options.env, log: options.log })) as Record<string, unknown>;
    const urls = pickUrls((started.urls as Record<string, unknown> | undefined) ?? started);
    const stopFn = (started.stop ?? started.close) as (() => Promise<void>) | undefined;
    if (Object.keys(urls).length === 0) throw new Error('scripts/stack.ts startStack() returned no legacy/modern/gateway URLs');
    return { urls, source: 'started', stop: async () => stopFn?.call(started) };
  }
  const urls: TargetUrls = {};
  for (const [target, url] of Object.entries(DEFAULT_URLS) as Array<[Target, string]>) {
    if (await answers(url)) urls[target] = url;
  }
  if (Object.keys(urls).length === 0) {
    throw new Error(
      'no targets: set LEGACY_URL / MODERN_URL / GATEWAY_URL, or start the stack (pnpm dev) on the default ports ' +
        '3001/3002/8080 (scripts/stack.ts does not export startStack yet)',
    );
  }
  options.log(`using services already running on default ports: ${Object.keys(urls).join(', ')}`);
  return { urls, source: 'default-ports', stop: async () => {} };
};

async function importRootStarter(): Promise<((options: unknown) => Promise<unknown>) | null> {
  if (!existsSync(ROOT_STACK)) return null;
  // Import only a module that exports the function: the file may also be a CLI entry point.
  const text = readFileSync(ROOT_STACK, 'utf8');
  if (!/export\s+(async\s+)?function\s+startStack\b|export\s*\{[^}]*\bstartStack\b/.test(text)) return null;
  const mod = (await import(pathToFileURL(ROOT_STACK).href)) as { startStack?: unknown };
  return typeof mod.startStack === 'function' ? (mod.startStack as (options: unknown) => Promise<unknown>) : null;
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
