import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, type TestHandler, type TestServer } from '@pilot/test-kit';
import pino from 'pino';
import { Agent, request } from 'undici';
import {
  type CreateGatewayOptions,
  createGateway,
  DEFAULT_ROUTES_FILE,
  type GatewayHandle,
} from '../src/index.ts';

export const silent = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

/** A fake backend that echoes what it received as JSON, naming itself. */
export function echo(name: string): TestHandler {
  return (req, res) => {
    const body = JSON.stringify({
      backend: name,
      method: req.method,
      url: req.url,
      headers: req.headers,
      body: req.body,
    });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };
}

export interface Backends {
  legacy: TestServer;
  modern: TestServer;
  env: Record<string, string>;
  close(): Promise<void>;
}

export async function startBackends(
  handlers: { legacy?: TestHandler; modern?: TestHandler } = {},
): Promise<Backends> {
  const legacy = await startTestServer(handlers.legacy ?? echo('legacy'));
  const modern = await startTestServer(handlers.modern ?? echo('modern'));
  // longer than the gateway's idle-socket timeout, as real backends should be
  for (const s of [legacy, modern]) s.server.keepAliveTimeout = 65_000;
  return {
    legacy,
    modern,
    env: { LEGACY_URL: legacy.url, MODERN_URL: modern.url },
    async close() {
      await Promise.all([legacy.close(), modern.close()]);
    },
  };
}

export async function tempDir(): Promise<{ dir: string; cleanup(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'pilot-gateway-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** A writable copy of the default table (tests never touch gateway/routes.yaml). */
export async function copyDefaultTable(dir: string, name = 'routes.yaml'): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, await readFile(DEFAULT_ROUTES_FILE, 'utf8'));
  return file;
}

export async function writeTable(dir: string, text: string, name = 'routes.yaml'): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, text);
  return file;
}

export async function startGateway(options: CreateGatewayOptions): Promise<GatewayHandle> {
  const gw = await createGateway({
    port: 0,
    adminPort: 0,
    host: '127.0.0.1',
    adminHost: '127.0.0.1',
    logger: silent,
    healthChecks: false,
    writeBack: false,
    ...options,
  });
  await gw.listen();
  return gw;
}

/** A keep-alive client (undici) for load-style tests. */
export function client(connections = 16): Agent {
  return new Agent({ connections, pipelining: 1, keepAliveTimeout: 30_000 });
}

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json<T = Record<string, unknown>>(): T;
}

export async function call(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string; dispatcher?: Agent } = {},
): Promise<Reply> {
  const res = await request(url, {
    method: (init.method ?? 'GET') as 'GET',
    headers: init.headers,
    body: init.body,
    dispatcher: init.dispatcher,
  });
  const text = await res.body.text();
  return {
    status: res.statusCode,
    headers: res.headers,
    text,
    json: <T>() => JSON.parse(text) as T,
  };
}

/** Runs `total` calls of `fn(i)` with at most `concurrency` in flight. */
export async function runConcurrent<T>(
  total: number,
  concurrency: number,
  fn: (i: number) => Promise<T>,
): Promise<T[]> {
  const results = new Array<T>(total);
  let next = 0;
  const worker = async () => {
    while (next < total) {
      const i = next++;
      results[i] = await fn(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, total) }, worker));
  return results;
}

export const TOKEN = 'test-admin-token-0123456789';
export const auth = { authorization: `Bearer ${TOKEN}` };

/** A small table pointing at the two fake backends, for focused tests. */
export function table(body: string, backendExtra = ''): string {
  return `backends:
  legacy: { url: http://127.0.0.1:1, urlEnv: LEGACY_URL, healthCheck: { enabled: false }${backendExtra} }
  modern: { url: http://127.0.0.1:1, urlEnv: MODERN_URL, healthCheck: { enabled: false }${backendExtra} }
${body}`;
}
