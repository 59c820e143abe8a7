import { z } from 'zod';
import { startCms } from '../../../apps/cms/testing/index.ts';
import { createStrapiClient, encodeQuery } from '../src/index.ts';

const cms = await startCms({ seedArticles: 30, seedAuthors: 3 });
console.log('booted in', Math.round(cms.bootMs), 'ms at', cms.url, 'pid', cms.pid);
const Article = z.object({
  documentId: z.string(),
  title: z.string(),
  slug: z.string(),
  author: z.object({ documentId: z.string(), name: z.string().optional() }).nullable().optional(),
});
const read = createStrapiClient({ baseUrl: cms.url, token: cms.readToken });
const write = createStrapiClient({ baseUrl: cms.url, token: cms.writeToken, cache: { enabled: false } });
try {
  console.log('ping', await read.ping());
  const articles = read.collection('articles');
  const q = {
    filters: { $or: [{ title: { $containsi: 'fastify' } }, { title: { $containsi: 'redis' } }] },
    populate: { author: { fields: ['name'] } },
    fields: ['title', 'slug'],
    sort: ['title:asc', 'publishedAt:desc'],
    pagination: { page: 1, pageSize: 5 },
    status: 'published' as const,
    locale: 'en',
  };
  console.log('query', encodeQuery(q));
  const list = await articles.find(q, Article);
  console.log('list', list.data.length, list.meta.pagination, list.data[0]);
  const first = list.data[0]!;
  const bySlug = await articles.find({ filters: { slug: { $eq: first.slug } }, populate: ['author'] }, Article, { typeTag: 'if-empty' });
  console.log('bySlug', bySlug.data.map((a) => a.slug), bySlug.data[0]?.author);
  const one = await articles.findOne(first.documentId, { populate: '*' }, Article);
  console.log('findOne', one.slug);
  const drafts = await articles.find({ status: 'draft', pagination: { start: 0, limit: 2 } }, Article).catch((e) => e);
  console.log('drafts with read token', drafts.code ?? drafts.meta);
  await articles.findOne('nope-nope', undefined, Article).catch((e) => console.log('missing →', e.code, e.status, e.strapiName));
  await articles.find({ filters: { nope: { $eq: 1 } } }, Article).catch((e) => console.log('bad filter →', e.code, e.status, e.strapiName, e.message));
  const Sub = z.object({ documentId: z.string(), email: z.string() });
  const subs = write.collection('subscribers');
  const email = `t${Date.now()}@example.com`;
  console.log('create', await subs.create({ email, name: 'T', source: 'contract' }, Sub));
  await subs.create({ email, name: 'T' }, Sub).catch((e) => console.log('duplicate →', e.code, e.status, e.strapiName, e.issues, e.isUniqueViolation));
  await subs.create({ email: 'not-an-email' }, Sub).catch((e) => console.log('invalid →', e.code, e.issues));
  await write.collection('articles').create({ title: 'x' }, Article).catch((e) => console.log('write token on articles →', e.code, e.status));
} finally {
  await read.close();
  await write.close();
  await cms.stop();
}
