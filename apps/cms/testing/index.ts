/**
 * End-to-end test helper: boots the REAL Strapi of apps/cms as a child process, API-only, on
 * an ephemeral 127.0.0.1 port, with a fresh temporary SQLite file (seeded on boot).
 *
 *   import { startCms } from '@pilot/cms/testing';
 *   const cms = await startCms({ webhookUrl: `${server.url}/webhooks/strapi` });
 *   // cms.url, cms.readToken, cms.writeToken, cms.fullAccessToken
 *   await cms.stop();
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Local-only token values: the defaults of apps/cms outside production. */
export const LOCAL_READ_TOKEN = 'local-read-token-0000000000000000000000000000000000000000';
export const LOCAL_WRITE_TOKEN = 'local-write-token-0000000000000000000000000000000000000000';
export const LOCAL_WEBHOOK_SECRET = 'local-webhook-secret';

/** The seed's fixed facts (see apps/cms/src/seed/content.js). */
export const SEED = {
  defaultArticles: 300,
  authors: 12,
  drafts: 3,
  /** Each of these words is in the title of exactly every 20th seeded article. */
  topics: [
    'Strangler Fig',
    'Fastify',
    'Express',
    'Redis',
    'Canary',
    'Shadow Traffic',
    'Webhooks',
    'Circuit Breakers',
    'Load Testing',
    'Cache Invalidation',
    'Gateways',
    'Observability',
    'Rate Limits',
    'Retries',
    'SQLite',
    'Postgres',
    'JSON Schemas',
    'Streaming',
    'Kubernetes',
    'Feature Flags',
  ],
  firstArticle: {
    slug: 'strangler-fig-in-practice',
    title: 'Strangler Fig in Practice',
    author: 'ada-lovelace',
  },
} as const;

export interface StartCmsOptions {
  /** Published seed articles (CMS_SEED_ARTICLES). Default 300, like `pnpm dev`. */
  seedArticles?: number;
  /** Seed authors (CMS_SEED_AUTHORS). Default 12. */
  seedAuthors?: number;
  /** Where Strapi posts entry.* webhooks. Unset: no webhook is registered. */
  webhookUrl?: string;
  /** Value of the x-webhook-secret header. Default `local-webhook-secret`. */
  webhookSecret?: string;
  readToken?: string;
  writeToken?: string;
  /** A full-access token for the test to edit content. Default: a random one per instance. */
  fullAccessToken?: string;
  /** Extra environment for the Strapi process (wins over everything above). */
  env?: Record<string, string | undefined>;
  /** Default 120 s (a loaded 2-core machine). */
  bootTimeoutMs?: number;
  /** Receives every log line of Strapi; by default they are kept (see `logs()`), and also printed when PILOT_CMS_LOGS=1. */
  onLog?: (line: string) => void;
}

export interface CmsInstance {
  /** Base URL, e.g. http://127.0.0.1:41234 (REST under /api). */
  url: string;
  port: number;
  pid: number;
  readToken: string;
  writeToken: string;
  fullAccessToken: string;
  webhookSecret: string;
  /** The SQLite file: a temporary one (removed by stop()) unless `env.DATABASE_FILENAME` chose another. */
  databaseFile: string;
  /** Milliseconds from spawn to listening. */
  bootMs: number;
  /** The last log lines of the Strapi process. */
  logs(): string;
  /** Kills the process (by PID: SIGTERM, SIGKILL after 10 s) and removes the temp files. Idempotent. */
  stop(): Promise<void>;
}

const startScript = fileURLToPath(new URL('../scripts/start.js', import.meta.url));
const appDir = fileURLToPath(new URL('..', import.meta.url));
const MAX_LOG_LINES = 400;

/** Variables of the parent that must not leak into a test instance. */
const SCRUBBED = [
  'DATABASE_CLIENT',
  'DATABASE_URL',
  'DATABASE_HOST',
  'DATABASE_PORT',
  'DATABASE_NAME',
  'DATABASE_USERNAME',
  'DATABASE_PASSWORD',
  'DATABASE_SCHEMA',
  'DATABASE_SSL',
  'PORT',
  'HOST',
  'MODERN_WEBHOOK_URL',
  'CMS_PUBLIC_URL',
];

export async function startCms(options: StartCmsOptions = {}): Promise<CmsInstance> {
  const dir = await mkdtemp(join(tmpdir(), 'pilot-cms-'));
  const databaseFile = join(dir, 'data.db');
  const readToken = options.readToken ?? LOCAL_READ_TOKEN;
  const writeToken = options.writeToken ?? LOCAL_WRITE_TOKEN;
  const fullAccessToken = options.fullAccessToken ?? `test-full-access-${randomBytes(24).toString('hex')}`;
  const webhookSecret = options.webhookSecret ?? LOCAL_WEBHOOK_SECRET;

  const env: Record<string, string | undefined> = { ...process.env };
  for (const name of SCRUBBED) delete env[name];
  Object.assign(env, {
    NODE_ENV: 'test',
    CMS_ADMIN: 'off',
    CMS_HOST: '127.0.0.1',
    CMS_PORT: '0',
    DATABASE_CLIENT: 'sqlite',
    DATABASE_FILENAME: databaseFile,
    STRAPI_READ_TOKEN: readToken,
    STRAPI_WRITE_TOKEN: writeToken,
    STRAPI_FULL_ACCESS_TOKEN: fullAccessToken,
    WEBHOOK_SECRET: webhookSecret,
    CMS_WEBHOOK: options.webhookUrl ? 'on' : 'off',
    MODERN_WEBHOOK_URL: options.webhookUrl,
    CMS_SEED: 'on',
    CMS_SEED_ARTICLES: String(options.seedArticles ?? SEED.defaultArticles),
    CMS_SEED_AUTHORS: String(options.seedAuthors ?? SEED.authors),
    CMS_LOG_LEVEL: process.env.CMS_LOG_LEVEL ?? 'info',
    STRAPI_TELEMETRY_DISABLED: 'true',
    FORCE_COLOR: '0',
  });
  Object.assign(env, options.env ?? {});
  for (const [key, value] of Object.entries(env)) if (value === undefined) delete env[key];

  const lines: string[] = [];
  const echo = process.env.PILOT_CMS_LOGS === '1';
  const onLine = (line: string) => {
    lines.push(line);
    if (lines.length > MAX_LOG_LINES) lines.shift();
    if (echo) process.stderr.write(`[cms] ${line}\n`);
    options.onLog?.(line);
  };

  const started = performance.now();
  const child = spawn(process.execPath, [startScript], {
    cwd: appDir,
    env: env as NodeJS.ProcessEnv,
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  pipeLines(child.stdout, onLine);
  pipeLines(child.stderr, onLine);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const logs = () => lines.join('\n');

  const alive = () => child.exitCode === null && child.signalCode === null;
  const signal = (name: NodeJS.Signals) => {
    try {
      if (alive() && child.pid !== undefined) process.kill(child.pid, name);
    } catch {
      // Already gone (ESRCH): nothing to do.
    }
  };

  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      if (alive()) {
        signal('SIGTERM');
        const timer = setTimeout(() => signal('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      if (child.connected) child.disconnect();
      await rm(dir, { recursive: true, force: true });
    })();
    return stopped;
  };

  let ready: { port: number; url: string };
  try {
    ready = await waitForReady(child, options.bootTimeoutMs ?? 120_000, logs);
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    url: ready.url,
    port: ready.port,
    pid: child.pid as number,
    readToken,
    writeToken,
    fullAccessToken,
    webhookSecret,
    databaseFile: env.DATABASE_FILENAME ?? databaseFile,
    bootMs: Math.round(performance.now() - started),
    logs,
    stop,
  };
}

function waitForReady(child: ChildProcess, timeoutMs: number, logs: () => string) {
  return new Promise<{ port: number; url: string }>((resolve, reject) => {
    const cleanup = () => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    const onMessage = (message: unknown) => {
      if (message && typeof message === 'object' && (message as { type?: string }).type === 'ready') {
        cleanup();
        const { port, url } = message as { port: number; url: string };
        resolve({ port, url });
      }
    };
    const onExit = (code: number | null, signal: string | null) => {
      cleanup();
      reject(
        new Error(
          `Strapi exited before it was ready (code ${code}, signal ${signal}). Last log lines:\n${tail(logs())}`,
        ),
      );
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`Strapi was not ready within ${timeoutMs} ms. Last log lines:\n${tail(logs())}`));
    }, timeoutMs);
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

function pipeLines(stream: NodeJS.ReadableStream | null, onLine: (line: string) => void) {
  if (!stream) return;
  let buffered = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    buffered += chunk;
    let index = buffered.indexOf('\n');
    while (index !== -1) {
      onLine(buffered.slice(0, index));
      buffered = buffered.slice(index + 1);
      index = buffered.indexOf('\n');
    }
  });
  stream.on('end', () => {
    if (buffered) onLine(buffered);
  });
}

function tail(text: string, count = 40) {
  return text.split('\n').slice(-count).join('\n');
}
