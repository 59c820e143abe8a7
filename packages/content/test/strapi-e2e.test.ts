import { ListArticlesQuery } from '@pilot/contracts';
import { type CmsInstance, startCms } from '@pilot/cms/testing';
import { createStrapiClient } from '@pilot/strapi-client';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ContentRepository,
  type ContentSeed,
  createMemoryContent,
  createStrapiContent,
  type SeedArticle,
  toApiError,
} from '../src/index.ts';

/**
 * The Strapi-backed repository against the REAL Strapi of apps/cms (booted once for this file,
 * fresh SQLite, seeded), and a check that the in-memory repository has the same semantics:
 * fed with what Strapi holds, it answers the same pages in the same order.
 */
let cms: CmsInstance;
let content: ContentRepository;

beforeAll(async () => {
  cms = await startCms({ seedArticles: 45, seedAuthors: 5 });
  const client = (token: string) =>
    createStrapiClient({ baseUrl: cms.url, token, timeoutMs: 10_000, cache: { ttlMs: 60_000 } });
  content = createStrapiContent({
    read: client(cms.readToken),
    write: client(cms.writeToken),
    source: 'e2e',
  });
}, 180_000);

afterAll(async () => {
  await content?.close();
  await cms?.stop();
});

/** Query values arrive as strings, as in a URL. */
const query = (input: Record<string, unknown> = {}) =>
  ListArticlesQuery.parse(Object.fromEntries(Object.entries(input).map(([k, v]) => [k, String(v)])));

describe('createStrapiContent against the real Strapi', () => {
  it('lists published articles newest first with pagination', async () => {
    const page = await content.listArticles(query({ pageSize: 10 }));
    expect(page.meta.pagination).toEqual({ page: 1, pageSize: 10, pageCount: 5, total: 45 });
    const dates = page.data.map((a) => a.publishedAt);
    expect([...dates].sort().reverse()).toEqual(dates);
    expect(page.data[0]).toMatchObject({ id: expect.any(String), author: { slug: expect.any(String) } });
  });

  it('finds an article by slug with its body; drafts and unknown slugs are null', async () => {
    const article = await content.getArticle('strangler-fig-in-practice');
    expect(article).toMatchObject({ title: 'Strangler Fig in Practice', author: { slug: 'ada-lovelace' } });
    expect(article?.body.length).toBeGreaterThan(0);
    expect(await content.getArticle('unpublished-draft-number-1')).toBeNull();
    expect(await content.getArticle('no-such-article')).toBeNull();
  });

  it('filters by author and searches case-insensitively', async () => {
    const ada = await content.listArticles(query({ author: 'ada-lovelace', pageSize: 100 }));
    expect(ada.data.length).toBeGreaterThan(0);
    expect(ada.data.every((a) => a.author?.slug === 'ada-lovelace')).toBe(true);
    const found = await content.listArticles(query({ q: 'rEdIs', pageSize: 100 }));
    expect(found.data.length).toBeGreaterThan(0);
    expect(found.data.every((a) => /redis/i.test(a.title) || /redis/i.test(a.summary))).toBe(true);
  });

  it('stores a subscriber; the same email again is CONFLICT', async () => {
    const created = await content.createSubscriber({ email: 'e2e@example.com', name: 'E2E' });
    expect(created).toMatchObject({ id: expect.any(String), email: 'e2e@example.com', name: 'E2E' });
    await expect(content.createSubscriber({ email: 'e2e@example.com' })).rejects.toMatchObject({
      code: 'CONFLICT',
      status: 409,
    });
  });

  it("Strapi's own unique check (400 ValidationError) maps to CONFLICT", async () => {
    const write = createStrapiClient({ baseUrl: cms.url, token: cms.writeToken, cache: { enabled: false } });
    try {
      const create = () =>
        write
          .collection('subscribers')
          .create(
            { email: 'twice@example.com', source: 'e2e' },
            { safeParse: (d: unknown) => ({ success: true as const, data: d }) },
          );
      await create();
      const error = await create().then(
        () => null,
        (e: unknown) => e,
      );
      expect(toApiError(error)).toMatchObject({ code: 'CONFLICT', status: 409 });
    } finally {
      await write.close();
    }
  });

  it('is ready, without Redis', async () => {
    expect(await content.health()).toEqual({ strapi: 'up', redis: 'disabled' });
  });

  it('createMemoryContent answers like Strapi on the same content', async () => {
    const all = await content.listArticles(query({ pageSize: 100, sort: 'publishedAt:asc' }));
    const articles: SeedArticle[] = [];
    const authors = new Map<string, ContentSeed['authors'][number]>();
    for (const summary of all.data) {
      const full = await content.getArticle(summary.slug);
      const authorId = summary.author ? `author-${summary.author.slug}` : null;
      if (summary.author && authorId)
        authors.set(authorId, { documentId: authorId, bio: '', ...summary.author });
      articles.push({ ...summary, documentId: summary.id, body: full?.body ?? '', authorId });
    }
    const memory = createMemoryContent({ seed: { authors: [...authors.values()], articles } });
    for (const input of [
      { pageSize: 7, page: 3 },
      { sort: 'title:asc', pageSize: 12, page: 2 },
      { sort: 'title:desc', pageSize: 100 },
      { sort: 'publishedAt:asc', q: 'fastify' },
      { q: 'IN PRACTICE', author: 'grace-hopper' },
      { author: 'ada-lovelace', sort: 'title:asc' },
      { q: 'nothing-matches-this' },
    ]) {
      expect(await memory.listArticles(query(input)), JSON.stringify(input)).toEqual(
        await content.listArticles(query(input)),
      );
    }
  });
});

/**
 * A proxy in front of the real Strapi that can hold a subscriber create before forwarding it,
 * or hold Strapi's answer to it: Strapi itself stores the entry; only the timing is ours.
 */
async function startWriteDelayProxy(target: string) {
  const plan = { holdRequestMs: 0, holdAnswerMs: 0 };
  const server = http.createServer((req, res) => {
    const isCreate = req.method === 'POST' && req.url?.startsWith('/api/subscribers');
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const forward = () => {
        const url = new URL(req.url ?? '/', target);
        const out = http.request(
          url,
          { method: req.method, headers: { ...req.headers, host: url.host } },
          (up) => {
            const body: Buffer[] = [];
            up.on('data', (c: Buffer) => body.push(c));
            up.on('end', () => {
              const answer = () => {
                if (res.destroyed) return;
                res.writeHead(up.statusCode ?? 502, up.headers);
                res.end(Buffer.concat(body));
              };
              if (isCreate && plan.holdAnswerMs > 0) setTimeout(answer, plan.holdAnswerMs);
              else answer();
            });
          },
        );
        out.on('error', () => res.destroy());
        out.end(Buffer.concat(chunks));
      };
      if (isCreate && plan.holdRequestMs > 0) setTimeout(forward, plan.holdRequestMs);
      else forward();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    plan,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('subscriber writes with an unknown outcome (real Strapi behind a delaying proxy)', () => {
  let proxy: Awaited<ReturnType<typeof startWriteDelayProxy>>;
  const opened: ContentRepository[] = [];
  const through = (options: { unknownOutcomeChecksMs?: number[] } = {}) => {
    const c = createStrapiContent({
      read: createStrapiClient({ baseUrl: proxy.url, token: cms.readToken, timeoutMs: 10_000 }),
      // a short write deadline: the proxy makes Strapi's answer miss it
      write: createStrapiClient({ baseUrl: proxy.url, token: cms.writeToken, timeoutMs: 300 }),
      source: 'e2e',
      ...options,
    });
    opened.push(c);
    return c;
  };
  const stored = async (email: string) => {
    const res = await fetch(`${cms.url}/api/subscribers?filters[email][$eqi]=${encodeURIComponent(email)}`, {
      headers: { authorization: `Bearer ${cms.writeToken}` },
    });
    return ((await res.json()) as { data: Array<{ documentId: string }> }).data;
  };

  beforeAll(async () => {
    proxy = await startWriteDelayProxy(cms.url);
  });
  afterAll(async () => {
    for (const c of opened) await c.close();
    await proxy?.close();
  });

  it('a create whose answer times out but which Strapi stored is answered as created, not 504', async () => {
    proxy.plan.holdAnswerMs = 1_000;
    proxy.plan.holdRequestMs = 0;
    const created = await through().createSubscriber({ email: 'late-answer@example.com', name: 'Late' });
    const inStrapi = await stored('late-answer@example.com');
    expect(inStrapi).toHaveLength(1);
    expect(created).toMatchObject({
      id: inStrapi[0]!.documentId,
      email: 'late-answer@example.com',
      name: 'Late',
    });
  });

  it('an outcome still unknown is a 504 saying so; the retry with the same Idempotency-Key answers the stored entry', async () => {
    // the create reaches Strapi only after our deadline and our one look
    proxy.plan.holdAnswerMs = 0;
    proxy.plan.holdRequestMs = 1_000;
    const content = through({ unknownOutcomeChecksMs: [0] });
    const email = 'unknown-outcome@example.com';
    const first = await content.createSubscriber({ email }, { idempotencyKey: 'unknown-1' }).catch((e) => e);
    expect(first).toMatchObject({ code: 'UPSTREAM_TIMEOUT', status: 504 });
    expect(first.body.error.details).toMatchObject({ outcome: 'unknown' });
    await expect.poll(() => stored(email), { timeout: 10_000 }).toHaveLength(1);
    proxy.plan.holdRequestMs = 0;
    const retry = await content.createSubscriber({ email }, { idempotencyKey: 'unknown-1' });
    expect(retry.id).toBe((await stored(email))[0]!.documentId);
    // without the key the same body is a duplicate, as it should be
    await expect(content.createSubscriber({ email })).rejects.toMatchObject({ code: 'CONFLICT' });
  });

  it('the same Idempotency-Key and body create one entry and answer it twice', async () => {
    proxy.plan.holdAnswerMs = 0;
    proxy.plan.holdRequestMs = 0;
    const content = through();
    const a = await content.createSubscriber({ email: 'once@example.com' }, { idempotencyKey: 'once-1' });
    const b = await content.createSubscriber({ email: 'once@example.com' }, { idempotencyKey: 'once-1' });
    expect(b).toEqual(a);
    expect(await stored('once@example.com')).toHaveLength(1);
    await expect(
      content.createSubscriber({ email: 'other@example.com' }, { idempotencyKey: 'once-1' }),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED', status: 422 });
  });

  it('a dry run (mirrored create) stores nothing, and still reads for duplicates', async () => {
    proxy.plan.holdAnswerMs = 0;
    proxy.plan.holdRequestMs = 0;
    const content = through();
    const dry = await content.createSubscriber({ email: 'dry-run@example.com' }, { dryRun: true });
    expect(dry).toMatchObject({ email: 'dry-run@example.com', id: expect.stringMatching(/^[a-z0-9]{24}$/) });
    expect(await stored('dry-run@example.com')).toHaveLength(0);
    // the served backend's write of the same request (received by the gateway before it): the same answer
    const requestedAt = Date.now();
    const served = await content.createSubscriber({ email: 'dry-run@example.com' });
    expect(
      await content.createSubscriber({ email: 'dry-run@example.com' }, { dryRun: true, requestedAt }),
    ).toEqual(served);
    // an entry from before the request: a duplicate, as a real create would say
    await expect(
      content.createSubscriber(
        { email: 'dry-run@example.com' },
        { dryRun: true, requestedAt: Date.now() + 1_000 },
      ),
    ).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(await stored('dry-run@example.com')).toHaveLength(1);
  });
});
