import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * One bench participant per process, so the load generator, the proxy under test and the
 * backend do not share an event loop. Started by run.ts; answers `ready <port>` over IPC.
 */
const [role, target, shadowTarget] = process.argv.slice(2);
let gateway: import('../src/index.ts').GatewayHandle | undefined;
const body = JSON.stringify({ data: { slug: 'hello-world', title: 'Hello, world' }, meta: {} });

async function listen(server: http.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

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
    case 'gateway-no-log': {
      const { createGateway } = await import('../src/index.ts');
      const { createLogger } = await import('../src/log.ts');
      const gw = await createGateway({
        env: { LEGACY_URL: target, MODERN_URL: target },
        port: 0,
        adminPort: 0,
        host: '127.0.0.1',
        logger: createLogger('info'),
        accessLog: role === 'gateway',
        healthChecks: true,
        writeBack: false,
        watch: false,
      });
      const { port } = await gw.listen();
      return port;
    }
    case 'gateway-shadow-off':
    case 'gateway-shadow-on': {
      // the served route alone, with or without a shadow to a second backend process
      const { mkdtemp, writeFile } = await import('node:fs/promises');
      const { tmpdir } = await import('node:os');
      const { join } = await import('node:path');
      const { createGateway } = await import('../src/index.ts');
      const { createLogger } = await import('../src/log.ts');
      const shadow = role === 'gateway-shadow-on' ? '\n    shadow: { backend: modern }' : '';
      const file = join(await mkdtemp(join(tmpdir(), 'pilot-bench-')), 'routes.yaml');
      await writeFile(
        file,
        `backends:
  legacy: { url: http://127.0.0.1:1, urlEnv: LEGACY_URL }
  modern: { url: http://127.0.0.1:1, urlEnv: MODERN_URL }
routes:
  - id: served
    path: /*
    backend: legacy${shadow}
`,
      );
      gateway = await createGateway({
        routesFile: file,
        env: { LEGACY_URL: target, MODERN_URL: shadowTarget ?? target },
        port: 0,
        adminPort: 0,
        host: '127.0.0.1',
        logger: createLogger('info'),
        accessLog: false,
        healthChecks: true,
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

process.on('SIGTERM', () => process.exit(0)); // lets --cpu-prof write its profile
const port = await start();
// CPU time is the number that survives a busy machine: run.ts asks before and after a run
process.on('message', (m) => {
  if (m === 'cpu') {
    const u = process.cpuUsage();
    process.send?.(`cpu ${u.user + u.system}`);
  }
  if (m === 'shadow') process.send?.(`shadow ${JSON.stringify(gateway?.gateway.shadows.snapshot() ?? {})}`);
});
process.send?.(`ready ${port}`);
