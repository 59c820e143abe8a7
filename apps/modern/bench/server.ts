/**
 * One benchmark participant in its own process (so it can have a core of its own while the load
 * generator runs in the parent): `node bench/server.ts <kind>`.
 *
 *   bare-http | bare-fastify | bare-express   hello worlds: the floors the apps are compared with
 *   modern | legacy                           the app as deployed: production config, the
 *                                             Strapi-backed repository and the real Strapi client
 *                                             (createServiceDeps), pointed at the bench's fake Strapi
 *
 * The apps' cache tier comes from the environment the parent sets: BENCH_STRAPI_URL, REDIS_URL
 * (unset: no Redis), BENCH_REDIS_PREFIX, CACHE_TTL_MS, CACHE_GRACE_MS, CACHE_L1_MAX_ITEMS,
 * LOG_LEVEL; BENCH_PRESSURE_DELAY_MS raises modern's load-shedding threshold. Reports `{ url }` over IPC, then answers:
 *   'cpu'        → `{ cpu }` (process.cpuUsage(): this process's own CPU time)
 *   'count-on'   → starts counting the read client's cache events by result and layer
 *   'count-off'  → `{ counts }` and stops counting (never on during a measured run)
 * Exits when the parent disconnects. Logs go to stdout, which the parent discards.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import { createApp as createLegacyApp, listen as listenLegacy } from '@pilot/legacy';
import { createLogger, createServiceDeps, loadServiceConfig } from '@pilot/service-kit';
import type { CacheEvent } from '@pilot/strapi-client';
import Fastify from 'fastify';
import { createApp as createModernApp } from '../src/index.ts';

/** The part of Express used here (its types belong to @pilot/legacy, not to this package). */
type BareExpress = () => {
  get(path: string, handler: (req: unknown, res: { json(body: unknown): void }) => void): void;
  listen(port: number, host: string): Server;
};

const kind = process.argv[2];
const hello = { hello: 'world' };
let url: string;
let counting: (() => Record<string, number>) | undefined;
let startCounting: (() => void) | undefined;

if (kind === 'bare-http') {
  const body = JSON.stringify(hello);
  const server = createServer((_req, res) => {
    res.writeHead(200, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
    });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
} else if (kind === 'bare-fastify') {
  const app = Fastify();
  app.get('/', async () => hello);
  url = await app.listen({ port: 0, host: '127.0.0.1' });
} else if (kind === 'bare-express') {
  // the Express that legacy runs on (resolved from @pilot/legacy's own dependencies)
  const fromLegacy = createRequire(import.meta.resolve('@pilot/legacy'));
  const express = (await import(pathToFileURL(fromLegacy.resolve('express')).href)).default as BareExpress;
  const app = express();
  app.get('/', (_req, res) => res.json(hello));
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
} else if (kind === 'modern' || kind === 'legacy') {
  const env = process.env;
  // production mode, as deployed: it refuses demo secrets, so the bench makes its own
  const secret = () => randomBytes(24).toString('base64url');
  const config = loadServiceConfig(
    {
      NODE_ENV: 'production',
      LOG_LEVEL: env.LOG_LEVEL,
      STRAPI_URL: env.BENCH_STRAPI_URL,
      REDIS_URL: env.REDIS_URL,
      CACHE_TTL_MS: env.CACHE_TTL_MS,
      CACHE_GRACE_MS: env.CACHE_GRACE_MS,
      CACHE_L1_MAX_ITEMS: env.CACHE_L1_MAX_ITEMS,
      JWT_SECRET: secret(),
      STRAPI_READ_TOKEN: secret(),
      STRAPI_WRITE_TOKEN: secret(),
      AUTH_USERS: `bench:${secret()}:Bench`,
    },
    { port: 0 },
  );
  const logger = createLogger({ service: kind, level: config.LOG_LEVEL });
  // the same wiring as src/server.ts of each app
  const shared = createServiceDeps(config, logger, { service: kind, redisPrefix: env.BENCH_REDIS_PREFIX });
  if (!(await shared.strapi.read.ready(5_000))) throw new Error(`${kind}: Redis not ready`);
  const deps = {
    config,
    logger,
    content: shared.content,
    auth: shared.auth,
    loginLimiter: shared.loginLimiter,
    metrics: shared.metrics,
  };
  if (kind === 'modern') {
    // the instructions bench sets load shedding out of reach (callgrind slows the loop fifty-fold)
    const pressureDelay = Number(env.BENCH_PRESSURE_DELAY_MS) || undefined;
    const tuning = pressureDelay ? { underPressure: { maxEventLoopDelay: pressureDelay } } : undefined;
    url = await createModernApp({ ...deps, tuning }).listen({ port: 0, host: '127.0.0.1' });
  } else {
    url = (
      await listenLegacy(createLegacyApp(deps), { host: '127.0.0.1', port: 0, logger, metrics: deps.metrics })
    ).url;
  }
  let counts: Record<string, number> = {};
  let off: (() => void) | undefined;
  startCounting = () => {
    counts = {};
    off?.();
    off = shared.strapi.read.on('cache', (event: CacheEvent) => {
      const key = 'layer' in event && event.layer ? `${event.result}:${event.layer}` : event.result;
      counts[key] = (counts[key] ?? 0) + 1;
    });
  };
  counting = () => {
    off?.();
    off = undefined;
    return counts;
  };
} else {
  throw new Error(
    `usage: node bench/server.ts bare-http|bare-fastify|bare-express|modern|legacy (got ${kind})`,
  );
}

process.send?.({ url });
process.on('message', (message) => {
  if (message === 'cpu') process.send?.({ cpu: process.cpuUsage() });
  else if (message === 'count-on') {
    startCounting?.();
    process.send?.({ counting: true });
  } else if (message === 'count-off') process.send?.({ counts: counting?.() ?? {} });
});
process.on('disconnect', () => process.exit(0));
