// The two HTTP upstreams GET /aggregate calls besides Strapi, for local runs and load tests:
// GET /weather and GET /quote answer small deterministic JSON after an optional fixed delay.
import { createServer, type Server } from 'node:http';

export async function startDemoUpstreams(options: { port: number; host?: string; delayMs?: number }) {
  const { port, host = '127.0.0.1', delayMs = 0 } = options;
  const bodies: Record<string, unknown> = {
    '/weather': { city: 'Lisbon', temperatureC: 21, conditions: 'clear' },
    '/quote': { text: 'Make it work, make it right, make it fast.', author: 'Kent Beck' },
  };
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const body = bodies[path];
    const answer = () => {
      if (body === undefined) {
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (delayMs > 0) setTimeout(answer, delayMs);
    else answer();
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  return {
    url: `http://${host}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

if (import.meta.main) {
  const port = Number(process.env.UPSTREAMS_PORT ?? 3090);
  const delayMs = Number(process.env.UPSTREAM_DELAY_MS ?? 0);
  const upstreams = await startDemoUpstreams({ port, host: process.env.HOST ?? '127.0.0.1', delayMs });
  console.log(JSON.stringify({ level: 30, msg: `demo upstreams on ${upstreams.url} (delay ${delayMs} ms)` }));
  process.on('SIGTERM', () => upstreams.close().then(() => process.exit(0)));
  process.on('SIGINT', () => upstreams.close().then(() => process.exit(0)));
}
