/**
 * `pnpm --filter @pilot/strapi-client bench`
 * Prints, for REST and GraphQL side by side: L1-hit ops/s, L2-hit latency (and Redis commands
 * per L2 hit), cold-miss latency (Strapi answering at once), upstream calls per 1,000 concurrent
 * identical cold reads. Uses the in-process fake Strapi (GraphQL answers scripted from the same
 * documents) and a private redis-server (started and stopped here), so the numbers are not
 * disturbed by other users. Writes bench-results/pilot-strapi-client.json at the repository root
 * (the shared format of @pilot/test-kit/bench).
 */
import { Redis } from 'ioredis';
import { z } from 'zod';
import { loadavg } from 'node:os';
import { TieredCache } from '../src/cache/tiered-cache.ts';
import { EventHub } from '../src/events.ts';
import { createStrapiClient, defineQuery } from '../src/index.ts';
import { noopLogger } from '../src/options.ts';
import { startFakeStrapi, startThrowawayRedis } from '../src/testing/index.ts';
import { type BenchResult, benchTarget, writeBenchReport } from '@pilot/test-kit/bench';

const results: BenchResult[] = [];

const articleSchema = z.object({ documentId: z.string(), title: z.string(), slug: z.string() });
const docs = Array.from({ length: 1_000 }, (_, i) => ({
  documentId: `doc${i}`,
  title: `Article ${i}`,
  slug: `article-${i}`,
  body: 'lorem ipsum '.repeat(40),
}));

/** The GraphQL twin of `find({ filters: { slug: { $eq } } })`. */
const ArticleBySlug = defineQuery({
  document:
    'query ArticleBySlug($slug: String!) { articles(filters: { slug: { eq: $slug } }) { documentId title slug } }',
  variables: z.object({ slug: z.string() }),
  schema: z.object({ articles: z.array(articleSchema) }),
  types: { Article: 'articles' },
});

const fake = await startFakeStrapi({
  collections: { articles: docs },
  graphql: (request, store) => ({
    body: {
      data: {
        articles: store
          .documents('articles')
          .filter((d) => d.slug === request.variables.slug)
          .map((d) => ({ __typename: 'Article', documentId: d.documentId, title: d.title, slug: d.slug })),
      },
    },
  }),
});
const redis = await startThrowawayRedis();
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

console.log(
  `load average ${loadavg()
    .map((n) => n.toFixed(2))
    .join(' ')} (2-core machines share it: numbers move with it)`,
);

/** Best of 3 runs of `rounds` batches (the first run also warms the JIT up). */
async function opsPerSecond(op: () => Promise<unknown>, batch = 1_000, rounds = 500): Promise<number> {
  let best = 0;
  for (let run = 0; run < 3; run++) {
    const started = performance.now();
    for (let r = 0; r < rounds; r++) {
      const ps: Array<Promise<unknown>> = [];
      for (let i = 0; i < batch; i++) ps.push(op());
      await Promise.all(ps);
    }
    best = Math.max(best, (batch * rounds) / ((performance.now() - started) / 1000));
  }
  return best;
}

function quantiles(latencies: number[]): { p50Ms: number; p99Ms: number } {
  const sorted = [...latencies].sort((x, y) => x - y);
  const pct = (p: number) =>
    Math.round(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]! * 1000) / 1000;
  return { p50Ms: pct(0.5), p99Ms: pct(0.99) };
}

function percentiles(latencies: number[]): string {
  const { p50Ms, p99Ms } = quantiles(latencies);
  return `p50 ${p50Ms.toFixed(3)} ms, p99 ${p99Ms.toFixed(3)} ms`;
}

try {
  // 0. L1 hits at the cache layer (key already built).
  {
    const cache = new TieredCache({
      l1MaxItems: 1_000,
      prefix: 'bench:',
      staleWhileRevalidate: true,
      redisCommandTimeoutMs: 500,
      now: Date.now,
      events: new EventHub(() => {}),
      logger: noopLogger,
    });
    const load = {
      type: 'articles',
      ttlMs: 60_000,
      graceMs: 60_000,
      load: async () => ({ value: docs[0], tags: [] }),
    };
    await cache.get('k', load);
    const ops = await opsPerSecond(() => cache.get('k', load));
    results.push({ name: 'L1 hit, cache layer (key built)', opsPerSecond: Math.round(ops) });
    console.log(`L1 hit (cache layer, key built, best of 3): ${fmt(ops)} ops/s`);
    await cache.close();
  }

  // 1. L1 hits through the public API (key building + L1 lookup + memoised validation).
  {
    const strapi = createStrapiClient({
      baseUrl: fake.url,
      cache: { redisUrl: redis.url, prefix: 'bench:' },
    });
    await strapi.ready();
    const articles = strapi.collection('articles');
    const params = { filters: { slug: { $eq: 'article-1' } }, pagination: { page: 1, pageSize: 1 } };
    await articles.find(params, articleSchema, { typeTag: 'if-empty' });
    const ops = await opsPerSecond(() => articles.find(params, articleSchema, { typeTag: 'if-empty' }));
    results.push({
      name: 'L1 hit, collection.find (key + L1 + validation memo)',
      opsPerSecond: Math.round(ops),
    });
    console.log(
      `L1 hit (collection.find incl. key building + validation memo, best of 3): ${fmt(ops)} ops/s`,
    );
    const variables = { slug: 'article-1' };
    await strapi.graphql.query(ArticleBySlug, variables);
    const gqlOps = await opsPerSecond(() => strapi.graphql.query(ArticleBySlug, variables));
    results.push({
      name: 'L1 hit, graphql.query (variables check + key + L1 + validation memo)',
      opsPerSecond: Math.round(gqlOps),
    });
    console.log(
      `L1 hit (graphql.query incl. variables check + key building + validation memo, best of 3): ${fmt(gqlOps)} ops/s`,
    );
    await strapi.close();
  }

  // 2. L2 hits: instance A fills Redis, instance B (cold L1) reads each key once.
  const l2 = async (
    label: string,
    prefix: string,
    read: (c: ReturnType<typeof createStrapiClient>, i: number) => Promise<unknown>,
  ) => {
    const a = createStrapiClient({ baseUrl: fake.url, cache: { redisUrl: redis.url, prefix } });
    const b = createStrapiClient({ baseUrl: fake.url, cache: { redisUrl: redis.url, prefix } });
    await Promise.all([a.ready(), b.ready()]);
    const n = 500;
    for (let i = 0; i < n; i++) await read(a, i);
    // L2 writes are fire-and-forget: wait until they have all landed.
    const probe = new Redis(redis.url);
    while ((await probe.keys(`${prefix}e:*`)).length < n) await new Promise((r) => setTimeout(r, 10));
    const stats = async () =>
      Number(/total_commands_processed:(\d+)/.exec(await probe.info('stats'))?.[1] ?? 0);
    let l2Hits = 0;
    b.on('cache', (event) => {
      if (event.result === 'hit' && event.layer === 'l2') l2Hits++;
    });
    const callsBefore = fake.apiCalls;
    const before = await stats();
    const latencies: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      await read(b, i);
      latencies.push(performance.now() - t0);
    }
    const after = await stats();
    results.push({
      name: `L2 hit, ${label} (cold L1)`,
      ...quantiles(latencies),
      l2Hits,
      reads: n,
      strapiCalls: fake.apiCalls - callsBefore,
      redisCommandsPerL2Hit: Math.round(((after - before - 1) / n) * 100) / 100,
    });
    console.log(
      `L2 hit latency (${label}, cold L1): ${percentiles(latencies)}; ` +
        `${l2Hits}/${n} L2 hits, ${fake.apiCalls - callsBefore} Strapi calls, ` +
        `${((after - before - 1) / n).toFixed(2)} Redis commands per L2 hit (the read script and the two it runs, one round trip)`,
    );
    probe.disconnect();
    await Promise.all([a.close(), b.close()]);
  };
  await l2('REST findOne', 'bench-l2:', (c, i) =>
    c.collection('articles').findOne(`doc${i}`, undefined, articleSchema),
  );
  await l2('graphql.query', 'bench-l2g:', (c, i) => c.graphql.query(ArticleBySlug, { slug: `article-${i}` }));

  // 2b. Cold misses: every read a new key, Strapi (the fake) answering at once.
  {
    const strapi = createStrapiClient({ baseUrl: fake.url });
    const cold = async (name: string, read: (i: number) => Promise<unknown>) => {
      const latencies: number[] = [];
      for (let i = 0; i < 500; i++) {
        const t0 = performance.now();
        await read(i);
        latencies.push(performance.now() - t0);
      }
      results.push({
        name: `cold miss, ${name} (L1 only, fake Strapi answering at once)`,
        ...quantiles(latencies),
      });
      return percentiles(latencies);
    };
    const articles = strapi.collection('articles');
    const rest = await cold('REST find', (i) =>
      articles.find({ filters: { slug: { $eq: `article-${i}` } } }, articleSchema),
    );
    const gql = await cold('graphql.query', (i) =>
      strapi.graphql.query(ArticleBySlug, { slug: `article-${i}` }),
    );
    console.log(`Cold miss latency (L1 only, fake Strapi): REST find ${rest}; graphql.query ${gql}`);
    await strapi.close();
  }

  // 3. Coalescing: 1,000 concurrent identical cold reads, several rounds, Strapi answering in 20 ms.
  {
    fake.setLatency(20);
    const strapi = createStrapiClient({
      baseUrl: fake.url,
      cache: { redisUrl: redis.url, prefix: 'bench-c:' },
    });
    await strapi.ready();
    const rounds = 5;
    const calls: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const before = fake.apiCalls;
      const params = { sort: ['title:asc'], pagination: { page: r + 1, pageSize: 25 } };
      await Promise.all(
        Array.from({ length: 1_000 }, () => strapi.collection('articles').find(params, articleSchema)),
      );
      calls.push(fake.apiCalls - before);
    }
    results.push({
      name: 'upstream calls per 1,000 concurrent identical cold reads, REST find',
      perRound: calls,
    });
    console.log(
      `Upstream calls per 1,000 concurrent identical cold reads (REST find): ${calls.join(', ')} (${rounds} rounds)`,
    );
    const gqlCalls: number[] = [];
    for (let r = 0; r < rounds; r++) {
      const before = fake.apiCalls;
      const variables = { slug: `article-${900 + r}` };
      await Promise.all(Array.from({ length: 1_000 }, () => strapi.graphql.query(ArticleBySlug, variables)));
      gqlCalls.push(fake.apiCalls - before);
    }
    results.push({
      name: 'upstream calls per 1,000 concurrent identical cold reads, graphql.query',
      perRound: gqlCalls,
    });
    console.log(
      `Upstream calls per 1,000 concurrent identical cold reads (graphql.query): ${gqlCalls.join(', ')} (${rounds} rounds)`,
    );
    await strapi.close();
  }

  const findHits = results.find((r) => r.name.startsWith('L1 hit, collection.find'))?.opsPerSecond as number;
  const worstCoalescing = Math.max(
    ...results.filter((r) => r.name.startsWith('upstream calls')).flatMap((r) => r.perRound as number[]),
  );
  const file = writeBenchReport({
    package: '@pilot/strapi-client',
    setup: { l1Rounds: 3, l1Batch: 1_000, l2Reads: 500, coldReads: 500, coalescingRounds: 5 },
    results,
    targets: [
      benchTarget(
        'L1 hit through collection.find',
        findHits,
        '>=',
        500_000,
        'L1 hits answered (key built, L1 lookup, validation memo) / second of wall-clock time, best of 3',
      ),
      benchTarget(
        'coalescing: upstream calls per 1,000 concurrent identical cold reads (worst round, REST and GraphQL)',
        worstCoalescing,
        '<=',
        1,
        'requests that reached the fake Strapi / 1,000 identical reads started together',
      ),
    ],
  });
  console.log(`results: ${file}`);
} finally {
  await fake.close();
  await redis.close();
}
