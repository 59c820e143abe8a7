// `pnpm start` / `pnpm dev`: the whole stack on its embedded defaults, in dependency order,
// each part waited for before the next starts, one combined readable log. Ctrl-C stops all.
//
//   demo upstreams (3090) → cms (1337) → legacy (3001) + modern (3002) → gateway (8080, admin 8081)
//
// Also importable: `startStack()` returns the URLs and a stop(), used by `pnpm compare`.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const root = join(import.meta.dirname, '..');

export interface StackOptions {
  /** Skip parts that are already running elsewhere (e.g. cms). */
  skip?: Array<'upstreams' | 'cms' | 'legacy' | 'modern' | 'gateway'>;
  /** Extra environment for every service. */
  env?: Record<string, string>;
  /** Where the combined log goes; default stdout. */
  log?: (line: string) => void;
  /** Upstream delay for /aggregate's demo upstreams (ms). */
  upstreamDelayMs?: number;
}

export interface RunningStack {
  urls: {
    cms: string;
    legacy: string;
    modern: string;
    gateway: string;
    gatewayAdmin: string;
    upstreams: string;
  };
  stop(): Promise<void>;
}

interface Part {
  name: string;
  cwd: string;
  command: string;
  args: string[];
  readyUrl: string;
  timeoutMs: number;
  env?: Record<string, string>;
}

const COLORS: Record<string, string> = {
  upstreams: '\x1b[90m',
  cms: '\x1b[35m',
  legacy: '\x1b[33m',
  modern: '\x1b[36m',
  gateway: '\x1b[32m',
};

/** pino JSON → `time level msg key=value`; anything else passes through. */
function formatLine(line: string): string {
  if (!line.startsWith('{')) return line;
  try {
    const entry = JSON.parse(line) as Record<string, unknown>;
    const level =
      typeof entry.level === 'number'
        ? (
            { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' } as Record<
              number,
              string
            >
          )[entry.level]
        : entry.level;
    const req = entry.req as { method?: string; url?: string } | undefined;
    const res = entry.res as { statusCode?: number } | undefined;
    const parts = [String(level ?? ''), String(entry.msg ?? '')];
    if (req?.method) parts.push(`${req.method} ${req.url ?? ''}`);
    else if (typeof entry.method === 'string') parts.push(`${entry.method} ${entry.path ?? entry.url ?? ''}`);
    if (res?.statusCode) parts.push(String(res.statusCode));
    else if (typeof entry.status === 'number') parts.push(String(entry.status));
    if (typeof entry.backend === 'string') parts.push(`→ ${entry.backend}`);
    if (typeof entry.responseTime === 'number') parts.push(`${Math.round(entry.responseTime * 10) / 10}ms`);
    else if (typeof entry.ms === 'number') parts.push(`${entry.ms}ms`);
    if (entry.err && typeof entry.err === 'object')
      parts.push(String((entry.err as { message?: string }).message));
    return parts.filter(Boolean).join(' ');
  } catch {
    return line;
  }
}

async function waitForUrl(url: string, timeoutMs: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`exited with code ${child.exitCode} before becoming ready`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (res.status < 500) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`not ready at ${url} after ${timeoutMs} ms`);
}

export async function startStack(options: StackOptions = {}): Promise<RunningStack> {
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const skip = new Set(options.skip ?? []);
  const children: Array<{ name: string; child: ChildProcess }> = [];
  const closers: Array<() => Promise<void>> = [];
  const urls = {
    upstreams: 'http://127.0.0.1:3090',
    cms: 'http://127.0.0.1:1337',
    legacy: 'http://127.0.0.1:3001',
    modern: 'http://127.0.0.1:3002',
    gateway: 'http://127.0.0.1:8080',
    gatewayAdmin: 'http://127.0.0.1:8081',
  };
  const say = (name: string, text: string) => {
    const color = process.stdout.isTTY ? (COLORS[name] ?? '') : '';
    const reset = color ? '\x1b[0m' : '';
    log(`${color}${name.padEnd(9)}|${reset} ${text}`);
  };

  const stop = async () => {
    for (const { name, child } of [...children].reverse()) {
      if (child.exitCode !== null || child.pid === undefined) continue;
      say(name, 'stopping');
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
      await Promise.race([
        new Promise((resolve) => child.once('exit', resolve)),
        new Promise((resolve) => setTimeout(resolve, 10_000)),
      ]);
      if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid, 'SIGKILL');
    }
    for (const close of closers.reverse()) await close();
  };

  try {
    if (!skip.has('upstreams')) {
      const { startDemoUpstreams } = await import('./demo-upstreams.ts');
      const upstreams = await startDemoUpstreams({ port: 3090, delayMs: options.upstreamDelayMs ?? 0 });
      closers.push(upstreams.close);
      say('upstreams', `weather + quote demo upstreams on ${urls.upstreams}`);
    }

    const shared: Record<string, string> = {
      STRAPI_URL: urls.cms,
      AGGREGATE_WEATHER_URL: `${urls.upstreams}/weather`,
      AGGREGATE_QUOTE_URL: `${urls.upstreams}/quote`,
      WEBHOOK_SECRET: process.env.WEBHOOK_SECRET ?? 'local-webhook-secret',
      // Local-only default so the control page works out of the box; set your own anywhere else.
      GATEWAY_ADMIN_TOKEN: process.env.GATEWAY_ADMIN_TOKEN ?? 'local-admin-token',
      LEGACY_URL: urls.legacy,
      MODERN_URL: urls.modern,
      ...options.env,
    };
    const cmsAdminBuilt = existsSync(join(root, 'apps/cms/build'));
    const parts: Part[] = [
      {
        name: 'cms',
        cwd: join(root, 'apps/cms'),
        command: 'pnpm',
        args: ['run', 'start'],
        readyUrl: `${urls.cms}/_health`,
        timeoutMs: 120_000,
      },
      {
        name: 'legacy',
        cwd: join(root, 'apps/legacy'),
        command: 'node',
        args: ['src/server.ts'],
        readyUrl: `${urls.legacy}/health`,
        timeoutMs: 30_000,
      },
      {
        name: 'modern',
        cwd: join(root, 'apps/modern'),
        command: 'node',
        args: ['src/server.ts'],
        readyUrl: `${urls.modern}/health`,
        timeoutMs: 30_000,
      },
      {
        name: 'gateway',
        cwd: join(root, 'gateway'),
        command: 'node',
        args: ['src/server.ts'],
        readyUrl: `${urls.gatewayAdmin}/healthz`,
        timeoutMs: 30_000,
      },
    ];
    if (!cmsAdminBuilt && !skip.has('cms') && (options.env?.CMS_ADMIN ?? process.env.CMS_ADMIN) !== 'off') {
      // Once per checkout: later starts serve the built panel as it is.
      say('cms', 'building the admin panel once (a minute or two; CMS_ADMIN=off skips it)');
      const build = spawn('pnpm', ['run', 'build'], {
        cwd: join(root, 'apps/cms'),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      for (const stream of [build.stdout, build.stderr]) {
        createInterface({ input: stream }).on('line', (line) => say('cms', `build: ${line}`));
      }
      const code = await new Promise<number | null>((resolve) => build.on('exit', resolve));
      if (code !== 0) say('cms', `admin build failed (exit ${code}); running API-only`);
    }

    for (const part of parts) {
      if (skip.has(part.name as 'cms')) continue;
      if (!existsSync(part.cwd)) {
        say(part.name, `not present in this checkout (${part.cwd}); skipped`);
        continue;
      }
      say(part.name, `starting: ${part.command} ${part.args.join(' ')}`);
      const child = spawn(part.command, part.args, {
        cwd: part.cwd,
        env: { ...process.env, ...shared, ...part.env },
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true, // own process group, so stop() ends pnpm and what it started
      });
      children.push({ name: part.name, child });
      for (const stream of [child.stdout, child.stderr]) {
        if (stream) createInterface({ input: stream }).on('line', (line) => say(part.name, formatLine(line)));
      }
      child.on('exit', (code, signal) => say(part.name, `exited (${signal ?? code})`));
      const started = Date.now();
      await waitForUrl(part.readyUrl, part.timeoutMs, child);
      say(part.name, `ready at ${part.readyUrl} in ${Date.now() - started} ms`);
    }
  } catch (error) {
    log(`stack: ${(error as Error).message}; stopping what started`);
    await stop();
    throw error;
  }
  return { urls, stop };
}

if (import.meta.main) {
  const stack = await startStack().catch(() => process.exit(1));
  console.log(
    `\nStack is up. Public gateway: ${stack.urls.gateway}  (legacy ${stack.urls.legacy}, modern ${stack.urls.modern}, cms ${stack.urls.cms}, admin ${stack.urls.gatewayAdmin})\nCtrl-C stops everything.\n`,
  );
  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    await stack.stop();
    process.exit(0);
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}
