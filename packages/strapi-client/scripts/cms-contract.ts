/**
 * Manual contract check against the REAL Strapi of apps/cms (boots it on an ephemeral port with
 * a temporary SQLite file, ~30-60 s on a 2-core machine):
 *
 *   pnpm --filter @pilot/strapi-client contract
 *
 * Asserts that the client's qs encoding, envelopes and error mapping match what Strapi 5 does.
 * Not part of `test` or `typecheck` (it imports apps/cms by path; the lead wires the contract
 * suite); exits non-zero on any mismatch.
 */
import assert from 'node:assert/strict';
import { z } from 'zod';
import { startCms } from '../../../apps/cms/testing/index.ts';
import { createStrapiClient, encodeQuery, type StrapiError, StrapiValidationError } from '../src/index.ts';

const Article = z.object({
  documentId: z.string(),
  title: z.string(),
  slug: z.string(),
  author: z.object({ documentId: z.string(), name: z.string() }).nullable().optional(),
});
const Subscriber = z.object({ documentId: z.string(), email: z.string() });
const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => assert.fail('expected a rejection'),
    (error: unknown) => error as StrapiError,
  );

const cms = await startCms({ seedArticles: 30, seedAuthors: 3 });
console.log(`cms booted in ${Math.round(cms.bootMs)} ms at ${cms.url}`);
const read = createStrapiClient({ baseUrl: cms.url, token: cms.readToken });
const write = createStrapiClient({ baseUrl: cms.url, token: cms.writeToken, cache: { enabled: false } });
try {
  assert.equal((await read.ping()).ok, true, 'GET /_health');
  const articles = read.collection('articles');

  const query = {
    filters: { $or: [{ title: { $containsi: 'fastify' } }, { title: { $containsi: 'redis' } }] },
    populate: { author: { fields: ['name'] } },
    fields: ['title', 'slug'],
    sort: ['title:asc', 'publishedAt:desc'],
    pagination: { page: 1, pageSize: 5 },
    status: 'published' as const,
  };
  console.log(`GET /api/articles?${encodeQuery(query)}`);
  const list = await articles.find(query, Article);
  assert.ok(list.data.length > 0, 'filters[$or] + $containsi matched');
  assert.ok(
    list.data.every((a) => /fastify|redis/i.test(a.title)),
    'every result matches the filter',
  );
  assert.deepEqual(
    list.data.map((a) => a.title),
    [...list.data.map((a) => a.title)].sort((x, y) => x.localeCompare(y)),
    'sort[0]=title:asc applied',
  );
  assert.equal(list.meta.pagination.pageSize, 5);
  assert.ok(list.data[0]!.author?.name, 'populate[author][fields][0]=name applied');

  const first = list.data[0]!;
  const bySlug = await articles.find(
    { filters: { slug: { $eq: first.slug } }, populate: ['author'] },
    Article,
    {
      typeTag: 'if-empty',
    },
  );
  assert.deepEqual(
    bySlug.data.map((a) => a.documentId),
    [first.documentId],
    'filters[slug][$eq]',
  );
  assert.equal((await articles.findOne(first.documentId, { populate: '*' }, Article)).slug, first.slug);

  const offset = await articles.find({ pagination: { start: 2, limit: 3 } }, Article);
  assert.equal(offset.data.length, 3, 'pagination[start]/[limit]');

  const missing = await failure(articles.findOne('no-such-document', undefined, Article));
  assert.equal(missing.code, 'STRAPI_NOT_FOUND');
  const badFilter = await failure(articles.find({ filters: { nope: { $eq: 1 } } }, Article));
  assert.equal(badFilter.code, 'STRAPI_VALIDATION', 'unknown filter key → 400 ValidationError');

  const subscribers = write.collection('subscribers');
  const email = `contract-${Date.now()}@example.com`;
  assert.equal((await subscribers.create({ email, name: 'Contract' }, Subscriber)).email, email);
  const duplicate = await failure(subscribers.create({ email }, Subscriber));
  assert.ok(duplicate instanceof StrapiValidationError && duplicate.isUniqueViolation, 'duplicate → unique');
  const forbidden = await failure(write.collection('articles').create({ title: 'x' }, Article));
  assert.equal(forbidden.code, 'STRAPI_FORBIDDEN', 'write token cannot create articles');
  console.log('contract OK');
} finally {
  await read.close();
  await write.close();
  await cms.stop();
}
