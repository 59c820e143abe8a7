/**
 * One benchmark target, run in its own process (so it gets a core of its own while autocannon
 * runs in the parent): `node bench/server.ts bare|modern|legacy`. Prints nothing; reports its
 * URL to the parent over IPC and exits when the parent disconnects.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAuthService } from '@pilot/auth';
import { createMemoryContent } from '@pilot/content';
import { createApp as createLegacyApp, listen as listenLegacy } from '@pilot/legacy';
import { createLogger, loadServiceConfig } from '@pilot/service-kit';
import { createApp as createModernApp } from '../src/index.ts';

const kind = process.argv[2];
// production mode, as deployed: which refuses demo secrets, so the bench makes its own
const secret = () => randomBytes(24).toString('base64url');
const config = loadServiceConfig(
  {
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
    JWT_SECRET: secret(),
    STRAPI_READ_TOKEN: secret(),
    STRAPI_WRITE_TOKEN: secret(),
    AUTH_USERS: `bench:${secret()}:Bench`,
  },
  { port: 0 },
);
const logger = createLogger({ service: String(kind), level: config.LOG_LEVEL });
const deps = () => ({
  config,
  logger,
  content: createMemoryContent(),
  auth: createAuthService({
    users: config.AUTH_USERS,
    jwtSecret: config.JWT_SECRET,
    issuer: config.JWT_ISSUER,
  }),
});

let url: string;
if (kind === 'bare') {
  const body = JSON.stringify({ hello: 'world' });
  const server = createServer((_req, res) => {
    res.writeHead(200, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
    });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
} else if (kind === 'modern') {
  const app = createModernApp(deps());
  url = await app.listen({ port: 0, host: '127.0.0.1' });
} else if (kind === 'legacy') {
  url = (await listenLegacy(createLegacyApp(deps()), { host: '127.0.0.1', port: 0 })).url;
} else {
  throw new Error(`usage: node bench/server.ts bare|modern|legacy (got ${kind})`);
}

process.send?.({ url });
// CPU time this process has used, for the parent's per-core normalisation
process.on('message', (message) => {
  if (message === 'cpu') process.send?.({ cpu: process.cpuUsage() });
});
process.on('disconnect', () => process.exit(0));
