'use strict';

/**
 * Starts Strapi without rebuilding anything: `pnpm start` / `pnpm dev` and the test helper
 * (testing/index.ts) all come through here.
 *
 * CMS_ADMIN=off   API only (serveAdminPanel false); needs no admin build at all.
 * CMS_ADMIN=on    admin panel required; fails fast when it was never built.
 * CMS_ADMIN unset admin panel when built (`pnpm --filter @pilot/cms build`), else API only.
 *
 * When spawned with an IPC channel, sends {type: 'ready', port, url} once listening, so a
 * parent waits on an event instead of polling.
 */

const fs = require('node:fs');
const path = require('node:path');

const appDir = path.resolve(__dirname, '..');
process.chdir(appDir);

// No telemetry, no license pings, no update checks (server.logger.updates is off in config).
process.env.STRAPI_TELEMETRY_DISABLED ??= 'true';
process.env.STRAPI_DISABLE_EE ??= 'true';
process.env.STRAPI_DISABLE_LICENSE_PING ??= 'true';

const { adminMode, productionProblems } = require('../src/lib/settings.js');

// Every published or missing secret named in one message, before Strapi reads the first one.
const problems = productionProblems();
if (problems.length > 0) {
  console.error(
    `[cms] refusing to start with NODE_ENV=production:\n${problems.map((p) => `  - ${p}`).join('\n')}\n(see apps/cms/README.md)`,
  );
  process.exit(78); // EX_CONFIG
}

const adminBuilt = fs.existsSync(path.join(appDir, 'build', 'index.html'));
const mode = adminMode();
if (mode === 'on' && !adminBuilt) {
  console.error(
    '[cms] CMS_ADMIN=on but the admin panel is not built: run `pnpm --filter @pilot/cms build` first.',
  );
  process.exit(1);
}
const serveAdmin = mode === 'on' || (mode === 'auto' && adminBuilt);
process.env.CMS_SERVE_ADMIN = String(serveAdmin);
if (mode === 'auto' && !adminBuilt) {
  console.warn(
    '[cms] admin panel not built: starting API-only (run `pnpm --filter @pilot/cms build` for the admin panel).',
  );
}

const { createStrapi } = require('@strapi/strapi');

async function main() {
  const started = performance.now();
  const app = createStrapi({ appDir, distDir: appDir });
  await app.start();
  const address = app.server.httpServer.address();
  const port = typeof address === 'object' && address ? address.port : Number(address);
  const host = app.config.get('server.host');
  const url = `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
  const ms = Math.round(performance.now() - started);
  app.log.info(`[cms] ready on ${url} (${serveAdmin ? `admin at ${url}/admin` : 'API only'}) in ${ms} ms`);
  if (process.send) process.send({ type: 'ready', port, url, bootMs: ms });

  // Strapi destroys itself on SIGTERM/SIGINT; make sure a stuck shutdown still ends the process.
  for (const signal of ['SIGTERM', 'SIGINT']) {
    process.once(signal, () => setTimeout(() => process.exit(0), 5000).unref());
  }
  // A parent that goes away (test runner crash) must not leave Strapi behind.
  if (process.send) process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
}

main().catch((error) => {
  console.error('[cms] failed to start:', error);
  process.exit(1);
});
