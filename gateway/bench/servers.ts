import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * One bench participant per process, so the load generator, the proxy under test and the
 * backend do not share an event loop. Started by run.ts (and profile.ts); answers
 * `ready <port>` over IPC, then `cpu <µs>` and `rss <bytes>` when asked.
 *
 * The gateway roles serve one table with a route of each kind, so one process gives every
 * figure: `/plain/*` (one backend, no shadow, no fallback: the fast path), `/fallback/*` (a
 * fallback backend, never used while the primary answers) and `/shadowed/*` (every GET
 * mirrored to a second backend process and compared), `/limited/*` (a rate limit no load reaches:
 * every request counted, in the process, or in Redis for the `gateway-redis` role).
 */
const [role, target, shadowTarget] = process.argv.slice(2);
let gateway: import('../src/index.ts').GatewayHandle | undefined;
const body = JSON.stringify({ data: { slug: 'hello-world', title: 'Hello, world' }, meta: {} });

async function listen(server: http.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

const BENCH_TABLE = `backends:
  legacy: { url: http://127.0.0.1:1, urlEnv: LEGACY_URL }
  modern: { url: http://127.0.0.1:1, urlEnv: MODERN_URL }
  mirror: { url: http://127.0.0.1:1, urlEnv: MIRROR_URL }
routes:
  - id: plain
    path: /plain/*
    backend: legacy
  - id: fallback
    path: /fallback/*
    backend: modern
    fallback: legacy
  - id: shadowed
    path: /shadowed/*
    backend: legacy
    shadow: { backend: mirror }
  - id: limited
    path: /limited/*
    backend: legacy
    limits: [{ name: bench, requests: 1000000000, window: 1m }]
`;

async function start(): Promise<number> {
  switch (role) {
    case 'backend': {
      const server = http.createServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      });
      server.keepAliveTimeout = 65_000;
      return listen(server);
    }
    case 'bare-node': {
      // Node's floor: a proxy with nothing but node:http (keep-alive agent, pipes both ways)
      const upstream = new URL(target!);
      const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
      const server = http.createServer((req, res) => {
        const proxyReq = http.request(
          {
            host: upstream.hostname,
            port: upstream.port,
            method: req.method,
            path: req.url,
            headers: req.headers,
            agent,
          },
          (proxyRes) => {
            res.writeHead(proxyRes.statusCode ?? 502, proxyRes.rawHeaders);
            proxyRes.pipe(res);
          },
        );
        proxyReq.on('error', () => res.destroy());
        req.pipe(proxyReq);
      });
      server.keepAliveTimeout = 65_000;
      return listen(server);
    }
    case 'bare-hpm': {
      const { createProxyMiddleware } = await import('http-proxy-middleware');
      const proxy = createProxyMiddleware({ target, changeOrigin: true });
      const server = http.createServer((req, res) => void proxy(req, res));
      server.keepAliveTimeout = 65_000;
      return listen(server);
    }
    case 'fastify-http-proxy': {
      const { default: Fastify } = await import('fastify');
      const { default: proxy } = await import('@fastify/http-proxy');
      const app = Fastify({ logger: false });
      await app.register(proxy, { upstream: target! });
      await app.listen({ port: 0, host: '127.0.0.1' });
      return (app.server.address() as AddressInfo).port;
    }
    case 'gateway':
    case 'gateway-no-log':
    case 'gateway-redis': {
      const { mkdtemp, writeFile } = await import('node:fs/promises');
      const { tmpdir } = await import('node:os');
      const { join } = await import('node:path');
      const { createGateway } = await import('../src/index.ts');
      const { createLogger } = await import('../src/log.ts');
      const file = join(await mkdtemp(join(tmpdir(), 'pilot-bench-')), 'routes.yaml');
      await writeFile(file, BENCH_TABLE);
      // the access log goes where a deployed gateway's goes: stdout (run.ts sends it to /dev/null)
      gateway = await createGateway({
        routesFile: file,
        env: { LEGACY_URL: target, MODERN_URL: target, MIRROR_URL: shadowTarget ?? target },
        port: 0,
        adminPort: 0,
        host: '127.0.0.1',
        logger: createLogger('info'),
        accessLog: role !== 'gateway-no-log',
        // rate-limit counters in Redis (REDIS_URL, default the local one), under a prefix of this run
        ...(role === 'gateway-redis'
          ? {
              redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
              redisPrefix: `pilot-bench:${process.pid}:`,
            }
          : {}),
        // on, as deployed; instructions.ts turns them off: under callgrind's clock (25-50× slower,
        // seconds-long compiles) a health check times out and a healthy backend gets ejected
        healthChecks: process.env.BENCH_HEALTH_CHECKS !== '0',
        writeBack: false,
        watch: false,
      });
      const { port } = await gateway.listen();
      return port;
    }
    default:
      throw new Error(`unknown role ${role}`);
  }
}

const stop = async () => {
  await gateway?.close();
  process.exit(0); // lets --cpu-prof write its profile
};
process.on('SIGTERM', () => void stop());
const port = await start();
// CPU time is the number that survives a busy machine: run.ts asks before and after a run
process.on('message', (m) => {
  if (m === 'cpu') {
    const u = process.cpuUsage();
    const t = process.threadCpuUsage();
    process.send?.(`cpu ${u.user + u.system} ${t.user + t.system}`);
  }
  if (m === 'rss') process.send?.(`rss ${process.memoryUsage.rss()}`);
  if (m === 'mem') process.send?.(`mem ${JSON.stringify(process.memoryUsage())}`);
  if (m === 'shadow') process.send?.(`shadow ${JSON.stringify(gateway?.gateway.shadows.snapshot() ?? {})}`);
});
process.send?.(`ready ${port}`);
