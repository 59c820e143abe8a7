import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAuthService } from '@pilot/auth';
import { createMemoryContent } from '@pilot/content';
import { createApp as createLegacyApp } from '@pilot/legacy';
import { createApp as createModernApp } from '@pilot/modern';
import { createLogger, loadServiceConfig } from '@pilot/service-kit';
import { Agent, request } from 'undici';

/**
 * The real legacy (Express) and modern (Fastify) apps on ephemeral ports, on in-memory content,
 * plus a fault-injecting proxy in front of modern: the one fake here, because a real service
 * cannot be made to fail 5% of its answers or slow down by 200 ms on demand.
 */
function deps(service: 'legacy' | 'modern') {
  const config = loadServiceConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent' }, { port: 0 });
  return {
    config,
    logger: createLogger({ service, level: config.LOG_LEVEL }),
    content: createMemoryContent(),
    auth: createAuthService({
      users: config.AUTH_USERS,
      jwtSecret: config.JWT_SECRET,
      issuer: config.JWT_ISSUER,
    }),
  };
}

async function serve(handler: http.RequestListener): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer(handler);
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export interface Faults {
  /** Every Nth answer is a 500 (0: none). */
  every500: number;
  /** Added before forwarding (ms). */
  delayMs: number;
}

export interface Apps {
  legacy: string;
  modern: string;
  /** The fault-injecting proxy in front of modern: give this to the gateway as "modern". */
  modernFaulty: string;
  faults: Faults;
  /** Answers modern gave (through the proxy), by kind. */
  counts: { forwarded: number; injected500: number };
  close(): Promise<void>;
}

export async function startApps(): Promise<Apps> {
  const legacyApp = createLegacyApp(deps('legacy'));
  const legacy = await serve(legacyApp as unknown as http.RequestListener);
  const modernApp = createModernApp({
    ...deps('modern'),
    tuning: { underPressure: false, eventsHeartbeatMs: 100 },
  });
  await modernApp.ready();
  const modern = await serve((req, res) => modernApp.routing(req, res));
  const target = new URL(modern.url);
  const faults: Faults = { every500: 0, delayMs: 0 };
  const counts = { forwarded: 0, injected500: 0 };
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  let n = 0;
  const proxy = await serve((req, res) => {
    const forward = () => {
      const up = http.request(
        {
          host: target.hostname,
          port: target.port,
          method: req.method,
          path: req.url,
          headers: req.headers,
          agent,
        },
        (upRes) => {
          res.writeHead(upRes.statusCode ?? 502, upRes.headers);
          upRes.pipe(res);
        },
      );
      up.on('error', () => res.destroy());
      req.pipe(up);
    };
    // the health checks are not traffic
    if (req.url === '/health' || req.url === '/ready') return forward();
    n++;
    if (faults.every500 > 0 && n % faults.every500 === 0) {
      counts.injected500++;
      req.resume();
      const body = JSON.stringify({ error: { status: 500, code: 'INJECTED', message: 'injected fault' } });
      res.writeHead(500, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
      return;
    }
    counts.forwarded++;
    if (faults.delayMs > 0) setTimeout(forward, faults.delayMs);
    else forward();
  });
  return {
    legacy: legacy.url,
    modern: modern.url,
    modernFaulty: proxy.url,
    faults,
    counts,
    async close() {
      agent.destroy();
      await proxy.close();
      await modern.close();
      await modernApp.close();
      await legacy.close();
    },
  };
}

export interface Answer {
  /** When the request was sent, and when its answer was complete. */
  at: number;
  doneAt: number;
  user: string;
  path: string;
  status: number;
  backend: string;
  body: string;
  error?: string;
}

/**
 * Client traffic that keeps flowing while a test runs: `concurrency` loops of GETs, each from
 * one of `users` sticky users (x-user-id), every answer recorded (a connection error too).
 */
export class Traffic {
  readonly answers: Answer[] = [];
  private running = false;
  private loops: Promise<void>[] = [];
  private readonly agent = new Agent({ connections: 32, keepAliveTimeout: 30_000 });
  /** Gateways the traffic goes to (round robin); may change while it runs. */
  urls: string[];
  private readonly paths: string[];
  private readonly users: number;

  constructor(urls: string[], paths: string[], users = 200) {
    this.urls = urls;
    this.paths = paths;
    this.users = users;
  }

  start(concurrency = 6): void {
    this.running = true;
    let i = 0;
    for (let c = 0; c < concurrency; c++) {
      this.loops.push(
        (async () => {
          while (this.running) {
            const k = i++;
            const user = `user-${k % this.users}`;
            const path = this.paths[k % this.paths.length]!;
            const url = this.urls[k % this.urls.length]! + path;
            const at = Date.now();
            try {
              const res = await request(url, { headers: { 'x-user-id': user }, dispatcher: this.agent });
              const body = await res.body.text();
              this.answers.push({
                at,
                doneAt: Date.now(),
                user,
                path,
                status: res.statusCode,
                backend: String(res.headers['x-backend']),
                body,
              });
            } catch (error) {
              this.answers.push({
                at,
                doneAt: Date.now(),
                user,
                path,
                status: 0,
                backend: '',
                body: '',
                error: (error as Error).message,
              });
            }
          }
        })(),
      );
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
    await this.agent.close();
  }
}
