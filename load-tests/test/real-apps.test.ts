// The smoke mode against the REAL legacy and modern apps and the real gateway, in process on
// ephemeral ports, reading content through the real Strapi client from an in-process fake
// Strapi (no Strapi boots in a unit-test run; the real one is exercised by `pnpm compare`).
// Correctness only: zero errors, samples everywhere, and upstream calls read from /metrics.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSeed } from '@pilot/content';
import { createGateway, DEFAULT_ROUTES_FILE, type GatewayHandle } from '@pilot/gateway';
import { createApp as createLegacyApp, listen, type RunningServer } from '@pilot/legacy';
import { createApp as createModernApp } from '@pilot/modern';
import { createLogger, createServiceDeps, loadServiceConfig, type ServiceDeps } from '@pilot/service-kit';
import { type FakeStrapi, startFakeStrapi } from '@pilot/strapi-client/testing';
import { startDelayedUpstream, type TestServer } from '@pilot/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Catalogue, loadCatalogue } from '../src/catalogue.ts';
import { runCompare } from '../src/compare.ts';

const seed = createSeed({ articles: 30, authors: 4, drafts: 0 });
const authors = new Map(seed.authors.map((a) => [a.documentId, a]));
const slug = seed.articles[0]!.slug;

let strapi: FakeStrapi;
const upstreams: TestServer[] = [];
const deps: ServiceDeps[] = [];
let legacy: RunningServer;
let modern: ReturnType<typeof createModernApp>;
let gateway: GatewayHandle;
let urls: { legacy: string; modern: string; gateway: string };
let reportsRoot: string;

beforeAll(async () => {
  strapi = await startFakeStrapi({
    collections: {
      articles: seed.articles.map((a) => {
        const author = a.authorId ? authors.get(a.authorId) : undefined;
        return {
          documentId: a.documentId,
          title: a.title,
          slug: a.slug,
          summary: a.summary,
          body: a.body,
          publishedAt: a.publishedAt,
          updatedAt: a.updatedAt,
          author: author ? { documentId: author.documentId, name: author.name, slug: author.slug } : null,
        };
      }),
      subscribers: [],
    },
    unique: { subscribers: ['email'] },
    // The fake executes no GraphQL: it answers the apps' one query (author by slug, with their
    // latest articles) from the seed, in the shape Strapi's GraphQL plugin gives it.
    graphql: ({ variables }) => {
      const author = seed.authors.find((a) => a.slug === variables.slug);
      const limit = typeof variables.limit === 'number' ? variables.limit : 5;
      const articles = seed.articles
        .filter((a) => author && a.authorId === author.documentId && a.publishedAt !== null)
        .sort((x, y) => (x.publishedAt! < y.publishedAt! ? 1 : -1))
        .slice(0, limit)
        .map((a) => ({
          __typename: 'Article',
          documentId: a.documentId,
          slug: a.slug,
          title: a.title,
          summary: a.summary,
          publishedAt: a.publishedAt,
          updatedAt: a.updatedAt,
        }));
      const authors = author
        ? [
            {
              __typename: 'Author',
              documentId: author.documentId,
              slug: author.slug,
              name: author.name,
              bio: author.bio ?? null,
              articles,
            },
          ]
        : [];
      return { body: { data: { authors } } };
    },
  });
  for (const name of ['weather', 'quote']) upstreams.push(await startDelayedUpstream(name, { delayMs: 20 }));
  const config = loadServiceConfig(
    {
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      HOST: '127.0.0.1',
      STRAPI_URL: strapi.url,
      AGGREGATE_WEATHER_URL: upstreams[0]!.url,
      AGGREGATE_QUOTE_URL: upstreams[1]!.url,
      WEBHOOK_SECRET: 'load-tests-webhook-secret-0123456789',
    },
    { port: 0 },
  );
  const logger = createLogger({ service: 'load-tests', level: 'silent' });

  const legacyDeps = createServiceDeps(config, logger, { service: 'legacy' });
  deps.push(legacyDeps);
  legacy = await listen(
    createLegacyApp({
      config,
      logger,
      content: legacyDeps.content,
      auth: legacyDeps.auth,
      metrics: legacyDeps.metrics,
    }),
    { host: '127.0.0.1', port: 0 },
  );

  const modernDeps = createServiceDeps(config, logger, { service: 'modern' });
  deps.push(modernDeps);
  modern = createModernApp({
    config,
    logger,
    content: modernDeps.content,
    auth: modernDeps.auth,
    metrics: modernDeps.metrics,
    // a loaded CI machine must not make the service shed the smoke's few requests
    tuning: { underPressure: false },
  });
  const modernUrl = await modern.listen({ host: '127.0.0.1', port: 0 });

  gateway = await createGateway({
    routesFile: DEFAULT_ROUTES_FILE,
    env: { LEGACY_URL: legacy.url, MODERN_URL: modernUrl },
    host: '127.0.0.1',
    port: 0,
    adminHost: '127.0.0.1',
    adminPort: 0,
    watch: false,
    writeBack: false,
    healthChecks: false,
    accessLog: false,
    logLevel: 'silent',
  });
  await gateway.listen();
  urls = { legacy: legacy.url, modern: modernUrl, gateway: gateway.url };
  reportsRoot = mkdtempSync(join(tmpdir(), 'pilot-real-smoke-'));
}, 60_000);

afterAll(async () => {
  await gateway?.close();
  await modern?.close();
  await legacy?.close(1000);
  await Promise.all(deps.map((d) => d.close()));
  await Promise.all(upstreams.map((u) => u.close()));
  await strapi?.close();
  if (reportsRoot) rmSync(reportsRoot, { recursive: true, force: true });
});

/** The shipped catalogue with 1 s smoke runs. */
function quickSmoke(c: Catalogue): Catalogue {
  return {
    ...c,
    defaults: { ...c.defaults, smoke: { rate: 4, duration: '1s' } },
    scenarios: c.scenarios.map(({ smoke: _unused, ...rest }) => rest),
  };
}

describe('compare --smoke against the real apps and gateway (fake Strapi)', () => {
  it('every scenario answers as the catalogue expects, with zero errors', async () => {
    const catalogue = loadCatalogue();
    const { report, problems } = await runCompare({
      mode: 'smoke',
      catalogue: quickSmoke(catalogue),
      urls,
      env: { VAR_slug: slug },
      reportsRoot,
      log: () => {},
    });
    expect(problems).toEqual([]);
    const expected = catalogue.scenarios.flatMap((s) => s.targets.map((t) => `${s.name}/${t}`)).sort();
    expect(report.runs.map((r) => `${r.scenario}/${r.target}`).sort()).toEqual(expected);
    // the services expose the upstream counter compare reads
    for (const run of report.runs)
      expect(run.upstreamCalls, `${run.scenario} → ${run.target}`).not.toBeNull();
    // accepted writes reached "Strapi"
    const writes = report.runs.filter((r) => r.scenario === 'write-accepted');
    expect(writes.every((r) => (r.upstreamCalls ?? 0) >= r.requests)).toBe(true);
    // the gateway names its backend; /articles is served by modern in the default table
    expect(
      report.runs.find((r) => r.scenario === 'cached-read' && r.target === 'gateway')!.servedBy,
    ).toHaveProperty('modern');
  }, 180_000);
});
