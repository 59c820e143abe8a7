import { once } from 'node:events';
import { type CmsInstance, startCms } from '@pilot/cms/testing';
import { createGateway, type GatewayHandle } from '@pilot/gateway';
import { createApp as createLegacyApp, listen as listenLegacy } from '@pilot/legacy';
import { createApp as createModernApp } from '@pilot/modern';
import { createLogger, createServiceDeps, loadServiceConfig, type ServiceDeps } from '@pilot/service-kit';
import { type TestRedis, useTestRedis } from '@pilot/test-kit';
import { freePort } from '@pilot/test-kit/ports';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  BUILTIN_SERIES,
  type Dashboard,
  dashboardExpressions,
  metricsInExpr,
  readRepoFile,
  repoPath,
} from '../src/index.ts';

/**
 * What docker-compose.yml and deploy/k8s promise when legacy, modern and the gateway run as
 * N replicas: everything shared goes through one Redis. Two instances of each app and two
 * gateways (different ports, each with its own Redis connections and in-process L1 cache)
 * on one real Redis and the real Strapi of apps/cms; the webhook travels as in production:
 * Strapi → gateway A (public port) → modern A.
 */
const WEBHOOK_SECRET = 'multi-instance-webhook-secret-0123';
const ADMIN_TOKEN = 'multi-instance-admin-token-0123456789';
const admin = {
  authorization: `Bearer ${ADMIN_TOKEN}`,
  'content-type': 'application/json',
  'x-admin-user': 'deploy-checks',
};

interface AppInstance {
  name: string;
  deps: ServiceDeps;
  url: string;
  close(): Promise<unknown>;
}

describe('replicas on one Redis: 2 legacy + 2 modern + 2 gateways (real Strapi, real Redis)', () => {
  let redis: TestRedis;
  let cms: CmsInstance;
  const apps: Record<'legacyA' | 'legacyB' | 'modernA' | 'modernB', AppInstance> = {} as never;
  let gwA: GatewayHandle;
  let gwB: GatewayHandle;

  beforeAll(async () => {
    redis = await useTestRedis('deploy-multi');
    const gatewayAPort = await freePort();
    cms = await startCms({
      seedArticles: 6,
      seedAuthors: 2,
      webhookUrl: `http://127.0.0.1:${gatewayAPort}/webhooks/strapi`,
      webhookSecret: WEBHOOK_SECRET,
    });
    const config = loadServiceConfig(
      {
        NODE_ENV: 'test',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'silent',
        STRAPI_URL: cms.url,
        STRAPI_READ_TOKEN: cms.readToken,
        STRAPI_WRITE_TOKEN: cms.writeToken,
        REDIS_URL: redis.url,
        WEBHOOK_SECRET,
        // Far longer than the test: a fresh read after an edit can only come from invalidation.
        CACHE_TTL_MS: '600000',
      },
      { port: 0 },
    );
    const logger = createLogger({ service: 'deploy-checks', level: 'silent' });
    const deps = (service: string) =>
      createServiceDeps(config, logger, { service, redisPrefix: redis.prefix });

    for (const name of ['legacyA', 'legacyB'] as const) {
      const d = deps('legacy');
      const server = await listenLegacy(
        createLegacyApp({ config, logger, content: d.content, auth: d.auth, metrics: d.metrics }),
        { host: '127.0.0.1', port: 0 },
      );
      apps[name] = { name, deps: d, url: server.url, close: () => server.close() };
    }
    for (const name of ['modernA', 'modernB'] as const) {
      const d = deps('modern');
      const app = createModernApp({
        config,
        logger,
        content: d.content,
        auth: d.auth,
        metrics: d.metrics,
        tuning: { underPressure: false },
      });
      const url = await app.listen({ host: '127.0.0.1', port: 0 });
      apps[name] = { name, deps: d, url, close: () => app.close() };
    }
    // Every instance is subscribed to the invalidation bus before anything happens.
    await Promise.all(Object.values(apps).map((a) => a.deps.strapi.read.ready()));

    const gateway = async (id: 'a' | 'b', legacy: AppInstance, modern: AppInstance, port: number) => {
      const handle = await createGateway({
        routesFile: repoPath('gateway/routes.yaml'),
        env: { LEGACY_URL: legacy.url, MODERN_URL: modern.url },
        port,
        host: '127.0.0.1',
        adminPort: 0,
        adminHost: '127.0.0.1',
        adminToken: ADMIN_TOKEN,
        redisUrl: redis.url,
        redisPrefix: `${redis.prefix}gateway:`,
        writeBack: false,
        accessLog: false,
        healthChecks: false,
        instanceId: `gw-${id}`,
        logLevel: 'silent',
      });
      await handle.listen();
      return handle;
    };
    gwA = await gateway('a', apps.legacyA, apps.modernA, gatewayAPort);
    gwB = await gateway('b', apps.legacyB, apps.modernB, 0);
  }, 180_000);

  afterAll(async () => {
    await Promise.allSettled([gwA?.close(), gwB?.close()]);
    for (const app of Object.values(apps)) await app.close();
    await Promise.allSettled(Object.values(apps).map((a) => a.deps.close()));
    await cms?.stop();
    await redis?.cleanup();
  }, 60_000);

  const json = async (res: Response) => ({
    status: res.status,
    // biome-ignore lint/suspicious/noExplicitAny: JSON bodies of several shapes, checked by the assertions
    body: (await res.json()) as Record<string, any>,
  });
  /** Fails with a message instead of hanging until the test timeout. */
  const within = <T>(ms: number, what: string, promise: Promise<T>): Promise<T> =>
    Promise.race([
      promise,
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error(`${what}: nothing after ${ms} ms`)), ms).unref(),
      ),
    ]);

  it('an edit in Strapi reaches the cache of every instance of both apps (webhook via gateway A)', async () => {
    const list = await json(await fetch(`${gwA.url}/articles?pageSize=1`));
    expect(list.status).toBe(200);
    const { slug } = list.body.data[0] as { slug: string };
    // The four instances, each as traffic reaches it: modern A/B through their gateway, legacy directly.
    const readers: Record<string, string> = {
      'modern A (via gateway A)': `${gwA.url}/articles/${slug}`,
      'modern B (via gateway B)': `${gwB.url}/articles/${slug}`,
      'legacy A': `${apps.legacyA.url}/articles/${slug}`,
      'legacy B': `${apps.legacyB.url}/articles/${slug}`,
    };
    const titles = async () => {
      const out: Record<string, string> = {};
      for (const [who, url] of Object.entries(readers)) {
        const res = await json(await fetch(url));
        expect(res.status, who).toBe(200);
        out[who] = res.body.data.title as string;
      }
      return out;
    };
    const before = await titles();
    const original = before['legacy A']!;
    expect(new Set(Object.values(before))).toEqual(new Set([original]));
    expect(await titles()).toEqual(before); // cached now (L1 each, L2 shared)

    const strapiArticle = await json(
      await fetch(`${cms.url}/api/articles?filters[slug][$eq]=${slug}`, {
        headers: { authorization: `Bearer ${cms.readToken}` },
      }),
    );
    const documentId = strapiArticle.body.data[0].documentId as string;
    const tag = `doc:articles:${documentId}`;
    // Wait on each instance's own invalidation event: local on modern A, remote (Redis) on the rest.
    const invalidated = Object.values(apps).map(
      (app) =>
        new Promise<{ name: string; source: string }>((resolve) => {
          const off = app.deps.strapi.read.on('invalidate', (event) => {
            if (event.tags.includes(tag)) {
              off();
              resolve({ name: app.name, source: event.source });
            }
          });
        }),
    );
    const title = `Edited by the multi-instance test ${Date.now()}`;
    const update = await fetch(`${cms.url}/api/articles/${documentId}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${cms.fullAccessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ data: { title } }),
    });
    expect(update.status).toBe(200);

    const events = await within(10_000, 'invalidation on all four instances', Promise.all(invalidated));
    expect(Object.fromEntries(events.map((e) => [e.name, e.source]))).toEqual({
      legacyA: 'remote',
      legacyB: 'remote',
      modernA: 'local',
      modernB: 'remote',
    });
    const after = await titles();
    for (const who of Object.keys(readers)) expect(after[who], who).toBe(title);
  });

  it('a weight change on gateway A reaches gateway B; clearing it on B reaches A', async () => {
    // Whatever the table's current split for /subscribers, send everyone the other way.
    const header =
      (parse(readRepoFile('gateway/routes.yaml')) as { settings?: { backendHeader?: string } }).settings
        ?.backendHeader ?? 'x-backend';
    const fileWeights = { ...gwA.gateway.route('subscribers')!.weights };
    expect(gwB.gateway.route('subscribers')!.weights).toEqual(fileWeights);
    const target = (fileWeights.legacy ?? 0) >= 50 ? 'modern' : 'legacy';
    const weights = { legacy: target === 'legacy' ? 100 : 0, modern: target === 'modern' ? 100 : 0 };
    const backends = async (gw: GatewayHandle) => {
      const seen = new Set<string>();
      for (let user = 0; user < 20; user += 1) {
        // An invalid body: each backend answers 422 itself without writing anything.
        const res = await fetch(`${gw.url}/subscribers`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-user-id': `user-${user}` },
          body: '{}',
        });
        expect(res.status).toBe(422);
        seen.add(res.headers.get(header) ?? '?');
      }
      return seen;
    };

    const reachedB = once(gwB.gateway.events, 'overrides');
    const put = await fetch(`${gwA.adminUrl}/admin/routes/subscribers/weights`, {
      method: 'PUT',
      headers: admin,
      body: JSON.stringify({ weights }),
    });
    expect(put.status).toBe(200);
    await within(5_000, 'override on gateway B', reachedB);
    expect(gwB.gateway.route('subscribers')!.weights).toEqual(weights);
    expect(await backends(gwB)).toEqual(new Set([target]));

    const reachedA = once(gwA.gateway.events, 'overrides');
    const clear = await fetch(`${gwB.adminUrl}/admin/routes/subscribers/override`, {
      method: 'DELETE',
      headers: admin,
    });
    expect(clear.status).toBe(200);
    await within(5_000, 'override cleared on gateway A', reachedA);
    expect(gwA.gateway.route('subscribers')!.weights).toEqual(fileWeights);
  });

  it('refresh tokens are shared: rotated on another instance, reuse detected on a third', async () => {
    const post = async (base: string, path: string, body: unknown) =>
      json(
        await fetch(`${base}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        }),
      );
    const login = await post(apps.legacyA.url, '/auth/login', {
      username: 'demo',
      password: 'demo-password',
    });
    expect(login.status).toBe(200);
    const first = login.body.refreshToken as string;

    const rotated = await post(apps.modernB.url, '/auth/refresh', { refreshToken: first });
    expect(rotated.status).toBe(200);
    const second = rotated.body.refreshToken as string;
    const me = await fetch(`${gwB.url}/me`, {
      headers: { authorization: `Bearer ${rotated.body.accessToken}` },
    });
    expect(me.status).toBe(200);

    const reuse = await post(apps.legacyB.url, '/auth/refresh', { refreshToken: first });
    expect(reuse.status).toBe(401);
    expect(reuse.body.error.code).toBe('REFRESH_TOKEN_REUSED');
    // The reuse revoked the whole family, on every instance.
    const afterReuse = await post(apps.modernA.url, '/auth/refresh', { refreshToken: second });
    expect(afterReuse.status).toBe(401);
  });

  it('exports every metric the Grafana dashboard reads (scraped from the running instances)', async () => {
    const scrapes = await Promise.all(
      [`${gwA.adminUrl}/metrics`, `${apps.legacyA.url}/metrics`, `${apps.modernA.url}/metrics`].map(
        async (url) => {
          const res = await fetch(url);
          expect(res.status, url).toBe(200);
          return res.text();
        },
      ),
    );
    const exported = new Set(
      scrapes.flatMap((text) =>
        [...text.matchAll(/^# TYPE (\S+) (\w+)$/gm)].flatMap((m) => [
          m[1]!,
          `${m[1]}_bucket`,
          `${m[1]}_sum`,
          `${m[1]}_count`,
        ]),
      ),
    );
    const dashboard = JSON.parse(
      readRepoFile('observability/grafana/dashboards/migration-pilot.json'),
    ) as Dashboard;
    const missing = dashboardExpressions(dashboard)
      .flatMap(({ expr }) => metricsInExpr(expr))
      .filter((name) => !BUILTIN_SERIES.has(name) && !exported.has(name));
    expect([...new Set(missing)]).toEqual([]);
  });
});
