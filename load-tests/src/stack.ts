// Where `pnpm compare` finds its targets, and what it starts when some are missing.
//
// For each wanted target, in order: its URL from the environment (LEGACY_URL, MODERN_URL,
// GATEWAY_URL); else the service answering /health on its embedded default port; else it is
// missing. Compare then starts exactly what is missing (and what a missing gateway needs
// behind it) through the repository's stack starter, `startStack()` of scripts/stack/start.ts,
// found by importing that module, with everything already running skipped. When it may not
// start anything (--no-start) or cannot, it names each missing target and stops.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Target } from './catalogue.ts';

export type TargetUrls = Partial<Record<Target, string>>;

/** The parts of the stack the starter knows (scripts/stack/start.ts PartName). */
export type PartName = 'upstreams' | 'cms' | 'legacy' | 'modern' | 'gateway';

export interface StackStartOptions {
  /** Extra environment for the services it starts (the /aggregate upstreams, backend URLs). */
  env: Record<string, string>;
  log: (line: string) => void;
  /** Parts already running (or not wanted): not started. */
  skip: PartName[];
}

export interface StartedStack {
  urls: TargetUrls & { cms?: string; gatewayAdmin?: string };
  stop(): Promise<void>;
}

export type StackStarter = (options: StackStartOptions) => Promise<StartedStack>;

/** Embedded default ports (docs/conventions.md). */
export const DEFAULT_URLS: Record<Target, string> = {
  legacy: 'http://127.0.0.1:3001',
  modern: 'http://127.0.0.1:3002',
  gateway: 'http://127.0.0.1:8080',
};
export const DEFAULT_CMS_URL = 'http://127.0.0.1:1337';
export const DEFAULT_GATEWAY_ADMIN_URL = 'http://127.0.0.1:8081';

export const ENV_NAMES: Record<Target, string> = {
  legacy: 'LEGACY_URL',
  modern: 'MODERN_URL',
  gateway: 'GATEWAY_URL',
};

/** The module whose exported startStack() starts the repository's stack. */
export const STACK_MODULE = join(import.meta.dirname, '..', '..', 'scripts', 'stack', 'start.ts');

/** Target URLs given in the environment (LEGACY_URL, MODERN_URL, GATEWAY_URL). */
export function urlsFromEnv(env: Record<string, string | undefined> = process.env): TargetUrls {
  const urls: TargetUrls = {};
  for (const [target, name] of Object.entries(ENV_NAMES) as Array<[Target, string]>) {
    const value = env[name];
    if (value) urls[target] = value.replace(/\/+$/, '');
  }
  return urls;
}

export class MissingTargetsError extends Error {
  readonly code = 'TARGETS_MISSING';
  readonly missing: Target[];
  constructor(missing: Target[], why: string) {
    super(
      `not running: ${missing
        .map((t) => `${t} (nothing answers ${DEFAULT_URLS[t]}/health and ${ENV_NAMES[t]} is not set)`)
        .join('; ')}. ${why}`,
    );
    this.missing = missing;
  }
}

/** Whether a service answers GET <url>/health (any status below 500) within a second. */
export async function answers(url: string, path = '/health'): Promise<boolean> {
  try {
    const res = await fetch(`${url}${path}`, { signal: AbortSignal.timeout(1000) });
    await res.body?.cancel();
    return res.status < 500;
  } catch {
    return false;
  }
}

export interface ResolveOptions {
  wanted: Target[];
  env: Record<string, string | undefined>;
  /** May compare start what is missing (default true)? */
  start: boolean;
  /** The starter (default: startStack() imported from STACK_MODULE). */
  starter?: StackStarter;
  /** Environment for the services compare starts (the /aggregate upstreams it serves). */
  starterEnv: () => Promise<Record<string, string>>;
  log: (line: string) => void;
  probe?: (url: string) => Promise<boolean>;
}

export interface ResolvedTargets {
  urls: TargetUrls;
  /** How each target was found. */
  sources: Partial<Record<Target, 'env' | 'running' | 'started'>>;
  cmsUrl: string;
  gatewayAdminUrl: string;
  /** The stack compare started (to stop at the end), or null. */
  stack: StartedStack | null;
}

export async function resolveTargets(options: ResolveOptions): Promise<ResolvedTargets> {
  const probe = options.probe ?? answers;
  const given = urlsFromEnv(options.env);
  const urls: TargetUrls = {};
  const sources: ResolvedTargets['sources'] = {};
  // A gateway needs both backends behind it, wanted or not.
  const needed = new Set<Target>(options.wanted);
  const known = async (t: Target): Promise<boolean> => {
    if (urls[t]) return true;
    if (given[t]) {
      if (!(await probe(given[t]!)))
        throw new Error(
          `${ENV_NAMES[t]}=${given[t]} does not answer /health: start it, or unset ${ENV_NAMES[t]}`,
        );
      urls[t] = given[t];
      sources[t] = 'env';
      return true;
    }
    if (await probe(DEFAULT_URLS[t])) {
      urls[t] = DEFAULT_URLS[t];
      sources[t] = 'running';
      return true;
    }
    return false;
  };
  const missing: Target[] = [];
  for (const t of options.wanted) if (!(await known(t))) missing.push(t);
  const cmsUrl = (options.env.STRAPI_URL ?? DEFAULT_CMS_URL).replace(/\/+$/, '');
  const gatewayAdminUrl = (options.env.GATEWAY_ADMIN_URL ?? DEFAULT_GATEWAY_ADMIN_URL).replace(/\/+$/, '');
  if (missing.length === 0) return { urls, sources, cmsUrl, gatewayAdminUrl, stack: null };

  if (missing.includes('gateway')) {
    for (const backend of ['legacy', 'modern'] as Target[]) {
      if (!needed.has(backend) && !(await known(backend))) missing.push(backend);
      needed.add(backend);
    }
  }
  if (!options.start)
    throw new MissingTargetsError(missing, 'Start them (pnpm dev), or run compare without --no-start.');
  const starter = options.starter ?? (await importStackStarter(missing));
  const skip: PartName[] = ['upstreams'];
  for (const t of ['legacy', 'modern', 'gateway'] as Target[]) if (!missing.includes(t)) skip.push(t);
  const cmsUp = options.probe ? await options.probe(cmsUrl) : await answers(cmsUrl, '/_health');
  if (cmsUp) skip.push('cms');
  options.log(
    `starting what is missing: ${missing.join(', ')}${skip.includes('cms') ? '' : ' (and the cms)'}; using what runs: ${
      Object.entries(urls)
        .map(([t, u]) => `${t}=${u}`)
        .join(' ') || 'nothing'
    }`,
  );
  const env = await options.starterEnv();
  // A gateway started here routes to the backends found above, wherever they are.
  if (urls.legacy) env.LEGACY_URL = urls.legacy;
  if (urls.modern) env.MODERN_URL = urls.modern;
  const stack = await starter({ env, log: options.log, skip });
  for (const t of missing) {
    const url = stack.urls[t];
    if (!url) {
      await stack.stop();
      throw new MissingTargetsError([t], 'The stack starter returned no URL for it.');
    }
    urls[t] = url.replace(/\/+$/, '');
    sources[t] = 'started';
  }
  return {
    urls,
    sources,
    cmsUrl: stack.urls.cms && !skip.includes('cms') ? stack.urls.cms : cmsUrl,
    gatewayAdminUrl:
      missing.includes('gateway') && stack.urls.gatewayAdmin ? stack.urls.gatewayAdmin : gatewayAdminUrl,
    stack,
  };
}

/** Lines of the stack's combined log worth showing during a load run (not per-request logs). */
const STACK_LOG = /starting|ready at|exited|stopping|not present|skipped|error|fatal|stack:/i;

type RepoStartStack = (options: {
  env?: Record<string, string>;
  log?: (line: string) => void;
  skip?: PartName[];
}) => Promise<{ urls: Record<string, string>; stop(): Promise<void> }>;

/**
 * The repository's stack starter, imported (scripts/stack/start.ts exports startStack). The
 * services it starts log at `warn` (per-request logs would cost the CPU being measured) and
 * run the cms API-only.
 */
export async function importStackStarter(
  missing: Target[],
  modulePath = STACK_MODULE,
): Promise<StackStarter> {
  if (!existsSync(modulePath))
    throw new MissingTargetsError(missing, `There is no stack starter at ${modulePath}.`);
  let mod: { startStack?: unknown };
  try {
    mod = (await import(pathToFileURL(modulePath).href)) as { startStack?: unknown };
  } catch (error) {
    throw new MissingTargetsError(missing, `Importing ${modulePath} failed: ${(error as Error).message}`);
  }
  if (typeof mod.startStack !== 'function')
    throw new MissingTargetsError(missing, `${modulePath} exports no startStack() function.`);
  const startStack = mod.startStack as RepoStartStack;
  return async (options) => {
    const started = await startStack({
      env: { LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn', CMS_ADMIN: 'off', ...options.env },
      log: (line) => {
        if (STACK_LOG.test(line)) options.log(line);
      },
      skip: options.skip,
    });
    return { urls: started.urls, stop: () => started.stop() };
  };
}
