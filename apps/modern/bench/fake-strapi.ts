/**
 * The bench's Strapi: strapi-client's in-process fake (it counts every API call), in a process
 * of its own so its CPU time is neither the server's nor the load generator's. Serves the
 * published articles of createSeed() in Strapi 5's shape (author relation populated). Reports
 * `{ url, slugs }` over IPC; answers `'stats'` with the API calls since the last `'stats'` and
 * its CPU time (the counter is reset each time, so its request log does not grow for ever).
 */
import { createSeed } from '@pilot/content';
import { startFakeStrapi } from '@pilot/strapi-client/testing';

const articles = Number(process.env.BENCH_ARTICLES ?? 600);
const seed = createSeed({ articles, drafts: 0 });
const authors = new Map(seed.authors.map((a) => [a.documentId, a]));
const fake = await startFakeStrapi({
  collections: {
    articles: seed.articles.map(({ authorId, ...article }) => {
      const author = authorId ? authors.get(authorId) : undefined;
      return {
        ...article,
        author: author ? { documentId: author.documentId, name: author.name, slug: author.slug } : null,
      };
    }),
  },
});

process.send?.({ url: fake.url, slugs: seed.articles.map((a) => a.slug) });
process.on('message', (message) => {
  if (message !== 'stats') return;
  const calls = fake.apiCalls;
  fake.resetCounters();
  process.send?.({ stats: { calls, cpu: process.cpuUsage() } });
});
process.on('disconnect', () => {
  void fake.close().finally(() => process.exit(0));
});
