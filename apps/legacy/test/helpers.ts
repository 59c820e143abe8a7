import { request as httpRequest } from 'node:http';
import { type AuthService, createAuthService } from '@pilot/auth';
import { createMemoryContent, type MemoryContent } from '@pilot/content';
import { ErrorEnvelope } from '@pilot/contracts';
import {
  createHttpMetrics,
  createLogger,
  type HttpMetrics,
  loadServiceConfig,
  type ServiceConfig,
} from '@pilot/service-kit';
import { type TestRedis, useTestRedis } from '@pilot/test-kit';
import { expect } from 'vitest';
import { createApp, listen } from '../src/index.ts';
import type { AppDeps } from '../src/deps.ts';

export function testConfig(env: Record<string, string | undefined> = {}): ServiceConfig {
  return loadServiceConfig(
    {
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      AUTH_USERS: 'demo:demo-password:Demo User,ann:ann-password:Ann',
      // nothing listens on port 9 (discard): a test that needs upstreams sets its own
      AGGREGATE_WEATHER_URL: 'http://127.0.0.1:9/weather',
      AGGREGATE_QUOTE_URL: 'http://127.0.0.1:9/quote',
      AGGREGATE_TIMEOUT_MS: '5000',
      ...env,
    },
    { port: 0 },
  );
}

export interface TestApp {
  url: string;
  config: ServiceConfig;
  content: MemoryContent;
  auth: AuthService;
  metrics: HttpMetrics;
  close(): Promise<void>;
}

let sharedRedis: TestRedis | undefined;

/** One real Redis connection per test file (refresh tokens live there, under its own prefix). */
export async function testRedis(): Promise<TestRedis> {
  sharedRedis ??= await useTestRedis('legacy');
  return sharedRedis;
}

export async function closeTestRedis(): Promise<void> {
  await sharedRedis?.cleanup();
  sharedRedis = undefined;
}

/**
 * The legacy app on an ephemeral 127.0.0.1 port: memory content (deterministic seed), the real
 * auth service with refresh tokens in the real Redis, a silent logger.
 */
export async function startApp(
  options: { env?: Record<string, string | undefined>; content?: MemoryContent } & Partial<AppDeps> = {},
): Promise<TestApp> {
  const { env, content: givenContent, ...rest } = options;
  const config = testConfig(env);
  const redis = await testRedis();
  const content = givenContent ?? createMemoryContent();
  const auth =
    rest.auth ??
    createAuthService({
      users: config.AUTH_USERS,
      jwtSecret: config.JWT_SECRET,
      issuer: config.JWT_ISSUER,
      redis: redis.client,
      prefix: redis.prefix,
    });
  const metrics = rest.metrics ?? createHttpMetrics('legacy');
  const app = createApp({
    config,
    logger: createLogger({ service: 'legacy', level: config.LOG_LEVEL }),
    content,
    auth,
    metrics,
    ...rest,
  });
  const running = await listen(app, { host: '127.0.0.1', port: 0 });
  return {
    url: running.url,
    config,
    content,
    auth,
    metrics,
    async close() {
      await running.close(5_000);
    },
  };
}

export interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/**
 * A raw HTTP/1.1 request (node:http): the path goes out exactly as written (fetch would
 * normalise `..` and encodings), any header can be set or left out.
 */
export function raw(
  url: string,
  options: { method?: string; path: string; headers?: Record<string, string>; body?: string | Buffer },
): Promise<RawAnswer> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: hostname,
        port,
        method: options.method ?? 'GET',
        path: options.path,
        headers: options.headers,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Asserts an error envelope of the given status (and code) with the contract's headers. */
export function expectEnvelope(
  answer: { status: number; contentType: string | null | undefined; body: unknown },
  status: number,
  code?: string,
) {
  expect(answer.status).toBe(status);
  expect(answer.contentType).toBe('application/json; charset=utf-8');
  const parsed = ErrorEnvelope.parse(answer.body);
  expect(parsed.error.status).toBe(status);
  if (code) expect(parsed.error.code).toBe(code);
  return parsed;
}

/** fetch + JSON body, for the common case. */
export async function call(url: string, init: RequestInit = {}) {
  const response = await fetch(url, init);
  const text = await response.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return {
    status: response.status,
    headers: response.headers,
    contentType: response.headers.get('content-type'),
    body,
  };
}

export const jsonPost = (body: unknown): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: typeof body === 'string' ? body : JSON.stringify(body),
});
