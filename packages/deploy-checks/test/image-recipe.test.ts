import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '@pilot/test-kit/ports';
import { afterAll, describe, expect, it } from 'vitest';
import {
  bootAndProbe,
  type Booted,
  environmentOf,
  filledEnv,
  loadCompose,
  pruneAndInstall,
  type PrunedApp,
  readRepoFile,
} from '../src/index.ts';

/**
 * No Docker here, so the part of docker/service.Dockerfile that can go wrong without Docker
 * being involved is replayed for real: the Dockerfile's own `turbo prune` and
 * `pnpm install --prod --frozen-lockfile --filter-prod` commands (offline, from the local pnpm
 * store), then the image's CMD (`node src/server.ts`) with the image's and docker-compose.yml's
 * environment, and its health URL. A runtime import of a devDependency, a workspace package
 * the prune misses, or a production-only config error fails here.
 */
const dockerfile = readRepoFile('docker/service.Dockerfile');
const { resolved } = loadCompose(undefined, filledEnv());
const apps: PrunedApp[] = [];
const running: Booted[] = [];

afterAll(async () => {
  for (const b of running) await b.stop();
  for (const a of apps) await a.cleanup();
});

function buildArgs(service: string): Record<string, string> {
  const build = resolved.services[service]!.build as { args: Record<string, string> };
  return build.args;
}

async function prepare(service: string): Promise<{ app: PrunedApp; dir: string }> {
  const args = buildArgs(service);
  const app = await pruneAndInstall(dockerfile, args);
  apps.push(app);
  return { app, dir: join(app.root, args.APP_DIR!) };
}

function baseEnv(): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    NODE_ENV: 'production',
    LOG_LEVEL: 'warn',
  };
}

function installed(app: PrunedApp): string[] {
  return readdirSync(join(app.root, 'node_modules', '.pnpm'));
}

describe('docker/service.Dockerfile dependency stages, replayed without Docker', () => {
  const urls: Record<string, string> = {};

  for (const [service, portVar] of [
    ['legacy', 'LEGACY_PORT'],
    ['modern', 'MODERN_PORT'],
  ] as const) {
    it(`${service}: production dependencies only, boots with NODE_ENV=production and answers /health`, async () => {
      const { app, dir } = await prepare(service);
      const packages = installed(app);
      for (const dev of ['vitest@', 'typescript@', '@strapi+strapi@', '@biomejs+']) {
        expect(
          packages.filter((p) => p.startsWith(dev)),
          `${dev} in the ${service} image`,
        ).toEqual([]);
      }
      expect(existsSync(join(dir, 'src', 'server.ts'))).toBe(true);
      const port = await freePort();
      const env = {
        ...baseEnv(),
        ...environmentOf(resolved.services[service]!),
        HOST: '127.0.0.1',
        [portVar]: String(port),
        // No Redis or Strapi needed for liveness; keep the test's Redis clean.
        REDIS_URL: '',
        STRAPI_URL: `http://127.0.0.1:${await freePort()}`,
        LOG_LEVEL: 'warn',
      };
      const booted = await bootAndProbe(dir, env, `http://127.0.0.1:${port}/health`);
      running.push(booted);
      urls[service] = `http://127.0.0.1:${port}`;
    }, 180_000);
  }

  it('gateway: production dependencies only, boots and proxies to the two apps', async () => {
    expect(urls.legacy && urls.modern, 'legacy and modern booted').toBeTruthy();
    const { app, dir } = await prepare('gateway');
    // (fastify is a runtime dependency of the gateway since its admin API runs on it)
    expect(installed(app).filter((p) => p.startsWith('vitest@') || p.startsWith('autocannon@'))).toEqual([]);
    const [port, adminPort] = [await freePort(), await freePort()];
    const args = buildArgs('gateway');
    const env = {
      ...baseEnv(),
      ...environmentOf(resolved.services.gateway!),
      GATEWAY_HOST: '127.0.0.1',
      GATEWAY_ADMIN_HOST: '127.0.0.1',
      GATEWAY_PORT: String(port),
      GATEWAY_ADMIN_PORT: String(adminPort),
      // In the image the table sits at /app/gateway/routes.yaml (compose mounts the same file).
      GATEWAY_ROUTES: join(dir, 'routes.yaml'),
      LEGACY_URL: urls.legacy!,
      MODERN_URL: urls.modern!,
      REDIS_URL: '',
      GATEWAY_ACCESS_LOG: 'false',
      LOG_LEVEL: 'warn',
    };
    const booted = await bootAndProbe(dir, env, `http://127.0.0.1:${adminPort}${args.HEALTH_PATH}`);
    running.push(booted);
    // /health is not a gateway route: the default route sends it to legacy.
    const res = await fetch(`http://127.0.0.1:${port}/health`);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-backend')).toBe('legacy');
    const metrics = await fetch(`http://127.0.0.1:${adminPort}/metrics`);
    expect(await metrics.text()).toMatch(/^gateway_requests_total\{.*backend="legacy".*\} 1$/m);
  }, 180_000);
});
