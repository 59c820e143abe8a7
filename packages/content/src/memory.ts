import { randomBytes } from 'node:crypto';
import {
  ApiError,
  type Article,
  type ArticleListResponse,
  type ArticleSummary,
  AUTHOR_LATEST_ARTICLES,
  type AuthorProfile,
  type ListArticlesQuery,
  type Subscriber,
} from '@pilot/contracts';
import {
  createMemoryIdempotencyStore,
  createOnce,
  fingerprintOf,
  type IdempotencyStore,
  replay,
} from './idempotency.ts';
import { DUPLICATE_SUBSCRIBER_MESSAGE } from './messages.ts';
import type { ContentRepository } from './repository.ts';
import { type ContentSeed, createSeed, type SeedArticle, type SeedAuthor } from './seed.ts';
import { webhookTags } from './webhook-tags.ts';

export interface MemoryContentOptions {
  /** Content to serve; default `createSeed()` (60 articles, 6 authors, 2 drafts). */
  seed?: ContentSeed;
  /**
   * Artificial latency of every call, in ms (e.g. 1000 to make /aggregate's articles part as
   * slow as a real upstream). Default 0.
   */
  delayMs?: number;
  /** What health() answers (default strapi up, redis disabled). */
  health?: { strapi: 'up' | 'down'; redis: 'up' | 'down' | 'disabled' };
  /** Idempotency-Key outcomes (default: in this process). */
  idempotency?: IdempotencyStore;
  /** Tolerated clock difference in a dry run (ms), as in the Strapi implementation. Default 10. */
  clockSkewMs?: number;
}

export interface MemoryContent extends ContentRepository {
  /** The content served (drafts included); read-only use in tests. */
  readonly seed: ContentSeed;
  /** Subscribers created so far, in order. */
  readonly subscribers: readonly Subscriber[];
  /** Invalidations received, in order (tags per call). */
  readonly invalidations: readonly string[][];
  /** Changes what health() answers from now on. */
  setHealth(health: { strapi: 'up' | 'down'; redis: 'up' | 'down' | 'disabled' }): void;
}

/** Compares like SQLite's default BINARY collation, which is what Strapi sorts with. */
function binaryCompare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Filtering, sorting and paging with the same semantics as the Strapi query in strapi.ts. */
export function queryArticles(
  articles: readonly SeedArticle[],
  authors: ReadonlyMap<string, SeedAuthor>,
  query: ListArticlesQuery,
): { items: SeedArticle[]; total: number } {
  const q = query.q?.toLowerCase();
  const filtered = articles.filter((a) => {
    if (a.publishedAt === null) return false;
    if (query.author) {
      const author = a.authorId ? authors.get(a.authorId) : undefined;
      if (author?.slug !== query.author) return false;
    }
    if (q && !a.title.toLowerCase().includes(q) && !a.summary.toLowerCase().includes(q)) return false;
    return true;
  });
  const [field, direction] = query.sort.split(':') as ['publishedAt' | 'title', 'asc' | 'desc'];
  const sign = direction === 'desc' ? -1 : 1;
  filtered.sort(
    (a, b) => sign * binaryCompare(a[field] ?? '', b[field] ?? '') || binaryCompare(a.slug, b.slug),
  );
  const start = (query.page - 1) * query.pageSize;
  return { items: filtered.slice(start, start + query.pageSize), total: filtered.length };
}

/**
 * ContentRepository in memory: deterministic seed content, subscribers in a Map, the same
 * filtering/sorting/paging as the Strapi implementation. For tests, parity runs and demos
 * without a CMS.
 */
export function createMemoryContent(options: MemoryContentOptions = {}): MemoryContent {
  const seed = options.seed ?? createSeed();
  const delayMs = options.delayMs ?? 0;
  let health = options.health ?? { strapi: 'up' as const, redis: 'disabled' as const };
  const authors = new Map(seed.authors.map((a) => [a.documentId, a]));
  const bySlug = new Map(seed.articles.filter((a) => a.publishedAt !== null).map((a) => [a.slug, a]));
  const subscribers = new Map<string, Subscriber>();
  const idempotency = options.idempotency ?? createMemoryIdempotencyStore();
  const clockSkewMs = options.clockSkewMs ?? 10;
  const invalidations: string[][] = [];

  const delay = () =>
    delayMs > 0 ? new Promise<void>((resolve) => setTimeout(resolve, delayMs)) : Promise.resolve();

  function summary(a: SeedArticle): ArticleSummary {
    const author = a.authorId ? authors.get(a.authorId) : undefined;
    return {
      id: a.documentId,
      slug: a.slug,
      title: a.title,
      summary: a.summary,
      author: author ? { slug: author.slug, name: author.name } : null,
      publishedAt: a.publishedAt as string,
      updatedAt: a.updatedAt,
    };
  }

  async function listArticles(query: ListArticlesQuery): Promise<ArticleListResponse> {
    await delay();
    const { items, total } = queryArticles(seed.articles, authors, query);
    return {
      data: items.map(summary),
      meta: {
        pagination: {
          page: query.page,
          pageSize: query.pageSize,
          pageCount: Math.ceil(total / query.pageSize),
          total,
        },
      },
    };
  }

  return {
    seed,
    get subscribers() {
      return [...subscribers.values()];
    },
    invalidations,
    setHealth(next) {
      health = next;
    },

    listArticles,

    // no cache here: every read takes the simulated latency
    cachedArticle: () => undefined,

    async getArticle(slug): Promise<Article | null> {
      await delay();
      const found = bySlug.get(slug);
      return found ? { ...summary(found), body: found.body } : null;
    },

    async latestArticles(count) {
      const page = await listArticles({ page: 1, pageSize: count, sort: 'publishedAt:desc' });
      return page.data;
    },

    async getAuthor(slug): Promise<AuthorProfile | null> {
      await delay();
      const author = seed.authors.find((a) => a.slug === slug);
      if (!author) return null;
      const query = {
        page: 1,
        pageSize: AUTHOR_LATEST_ARTICLES,
        sort: 'publishedAt:desc',
        author: slug,
      } as const;
      const { items } = queryArticles(seed.articles, authors, query);
      const latestArticles = items.map((a) => {
        const { author: _, ...rest } = summary(a);
        return rest;
      });
      return { id: author.documentId, slug, name: author.name, bio: author.bio, latestArticles };
    },

    async createSubscriber(input, createOptions = {}) {
      const email = input.email.toLowerCase();
      const name = input.name ?? null;
      const key = createOptions.idempotencyKey;
      const fingerprint = fingerprintOf({ email, name });
      const duplicate = () => new ApiError('CONFLICT', { message: DUPLICATE_SUBSCRIBER_MESSAGE });
      if (createOptions.dryRun) {
        await delay();
        // same semantics as the Strapi implementation's dry run (see its comment)
        const record = key === undefined ? null : await idempotency.peek(key);
        if (record?.state === 'done' && record.fingerprint === fingerprint) return replay(record.outcome);
        const existing = subscribers.get(email);
        if (existing) {
          const at = createOptions.requestedAt;
          if (at !== undefined && Date.parse(existing.createdAt) >= at - clockSkewMs) return existing;
          throw duplicate();
        }
        return { id: randomBytes(12).toString('hex'), email, name, createdAt: new Date().toISOString() };
      }
      const create = async (adopt: boolean) => {
        await delay();
        const existing = subscribers.get(email);
        if (existing) {
          if (adopt) return existing;
          throw duplicate();
        }
        const subscriber: Subscriber = {
          id: randomBytes(12).toString('hex'),
          email,
          name,
          createdAt: new Date().toISOString(),
        };
        subscribers.set(email, subscriber);
        return subscriber;
      };
      return key === undefined ? create(false) : createOnce(idempotency, key, fingerprint, create);
    },

    async invalidate(payload) {
      const tags = webhookTags(payload);
      invalidations.push(tags);
      return tags;
    },

    async health() {
      return { ...health };
    },

    async close() {},
  };
}
