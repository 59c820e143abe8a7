import { randomInt } from 'node:crypto';
import {
  ApiError,
  type Article,
  type ArticleListResponse,
  type ArticleSummary,
  type ListArticlesQuery,
  type Subscriber,
} from '@pilot/contracts';
import {
  type CacheOptions,
  StrapiBadResponseError,
  StrapiCircuitOpenError,
  type StrapiClient,
  type StrapiListResult,
  StrapiOverloadedError,
  type StrapiQueryParams,
  StrapiTimeoutError,
  StrapiUnavailableError,
} from '@pilot/strapi-client';
import { z } from 'zod';
import { getAuthorOverGraphQL } from './authors.ts';
import { mapStrapi, toApiError } from './errors.ts';
import { DUPLICATE_SUBSCRIBER_MESSAGE } from './messages.ts';
import {
  createMemoryIdempotencyStore,
  createOnce,
  fingerprintOf,
  type IdempotencyStore,
  replay,
} from './idempotency.ts';
import type { ContentRepository } from './repository.ts';
import { docTag, webhookTags } from './webhook-tags.ts';

export interface StrapiContentOptions {
  /** Client with the read-only token: cached reads and webhook invalidation. */
  read: StrapiClient;
  /** Client with the write token (subscribers); its cache is not used for reads. */
  write: StrapiClient;
  /** Stored in `subscriber.source`, e.g. the service name. Default 'api'. */
  source?: string;
  /** Where Idempotency-Key outcomes live (Redis for several instances). Default: this process. */
  idempotency?: IdempotencyStore;
  /**
   * After a create whose outcome is unknown (Strapi never answered), look for the subscriber at
   * these delays (ms) before answering. Default [0, 250, 1000, 2000].
   */
  unknownOutcomeChecksMs?: readonly number[];
  /** Tolerated clock difference between the gateway and Strapi in a dry run (ms). Default 10: hosts kept in step by NTP; a larger value would take a double submit within it for the same request. */
  clockSkewMs?: number;
}

/** Strapi 5 documentIds: 24 lower-case letters and digits. */
function documentIdLike(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  let id = '';
  for (let i = 0; i < 24; i++) id += alphabet[randomInt(alphabet.length)];
  return id;
}

/**
 * A create that got no answer (a timeout, a connection lost after sending, an unreadable 2xx)
 * may have been stored. Refused before sending (breaker open, concurrency cap, connection
 * refused) or answered with a status: decided.
 */
function outcomeUnknown(error: unknown): boolean {
  if (error instanceof StrapiTimeoutError) return true;
  if (error instanceof StrapiBadResponseError) return error.status !== undefined && error.status < 300;
  if (!(error instanceof StrapiUnavailableError)) return false;
  if (error instanceof StrapiCircuitOpenError || error instanceof StrapiOverloadedError) return false;
  if (error.status !== undefined) return false;
  const code = (error.cause as { cause?: { code?: string } } | undefined)?.cause?.code;
  return code !== 'ECONNREFUSED';
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** What Strapi 5 answers for an article (flat documents, the relation populated). */
const StrapiAuthor = z.object({
  documentId: z.string().optional(),
  name: z.string(),
  slug: z.string(),
});
const StrapiArticleSummary = z.object({
  documentId: z.string(),
  title: z.string(),
  slug: z.string(),
  summary: z.string().nullable().optional(),
  publishedAt: z.string().nullable(),
  updatedAt: z.string(),
  author: StrapiAuthor.nullable().optional(),
});
const StrapiArticle = StrapiArticleSummary.extend({ body: z.string().nullable().optional() });
const StrapiSubscriber = z.object({
  documentId: z.string(),
  email: z.string(),
  name: z.string().nullable().optional(),
  createdAt: z.string(),
});
type StrapiArticleSummary = z.infer<typeof StrapiArticleSummary>;
type StrapiArticle = z.infer<typeof StrapiArticle>;

const SUMMARY_FIELDS = ['title', 'slug', 'summary', 'publishedAt', 'updatedAt'];
const POPULATE_AUTHOR = { author: { fields: ['name', 'slug'] } };

function toSummary(a: StrapiArticleSummary): ArticleSummary {
  return {
    id: a.documentId,
    slug: a.slug,
    title: a.title,
    summary: a.summary ?? '',
    author: a.author ? { slug: a.author.slug, name: a.author.name } : null,
    // `status: published` guarantees it; the fallback only keeps the type honest
    publishedAt: a.publishedAt ?? a.updatedAt,
    updatedAt: a.updatedAt,
  };
}

const ARTICLE_FIELDS = Object.freeze([...SUMMARY_FIELDS, 'body']);
const ARTICLE_CACHE: CacheOptions<StrapiListResult<StrapiArticle>> = Object.freeze({
  typeTag: 'if-empty',
  tags: (found: StrapiListResult<StrapiArticle>) =>
    found.data.flatMap((a) => (a.author?.documentId ? [docTag('authors', a.author.documentId)] : [])),
});
const SLUG_QUERY_MEMO_MAX = 10_000;
let slugQueries = new Map<string, StrapiQueryParams>();

/**
 * The Strapi query of GET /articles/:slug, one frozen object per slug: the client keys a frozen
 * query by identity, so a cached read builds no key text. Bounded (dropped at 10,000 slugs):
 * slugs come from requests.
 */
function articleBySlug(slug: string): StrapiQueryParams {
  let params = slugQueries.get(slug);
  if (!params) {
    params = Object.freeze({
      filters: { slug: { $eq: slug } },
      fields: ARTICLE_FIELDS as string[],
      populate: POPULATE_AUTHOR,
      pagination: { page: 1, pageSize: 1, withCount: false },
      status: 'published',
    } as const);
    if (slugQueries.size >= SLUG_QUERY_MEMO_MAX) slugQueries = new Map();
    slugQueries.set(slug, params);
  }
  return params;
}

/**
 * An article in the public API's shape, made once per validated Strapi document: the client
 * hands back the same frozen document on every cache hit, so a hit maps nothing, and the result
 * is frozen too (shared by every caller, and a route may keep what it made of it by identity).
 */
const mappedArticles = new WeakMap<StrapiArticle, Article>();
function toArticle(found: StrapiArticle): Article {
  let article = mappedArticles.get(found);
  if (!article) {
    const summary = toSummary(found);
    article = Object.freeze({
      ...summary,
      author: summary.author && Object.freeze(summary.author),
      body: found.body ?? '',
    });
    mappedArticles.set(found, article);
  }
  return article;
}

/**
 * The Strapi query of GET /articles: case-insensitive search in title and summary, author by
 * slug, the requested order with ties broken by slug (stable pages), published documents only.
 * createMemoryContent implements the same semantics (queryArticles in memory.ts).
 */
export function articleListParams(query: ListArticlesQuery): StrapiQueryParams {
  const filters: Record<string, unknown> = {};
  if (query.q) filters.$or = [{ title: { $containsi: query.q } }, { summary: { $containsi: query.q } }];
  if (query.author) filters.author = { slug: { $eq: query.author } };
  return {
    filters,
    sort: [query.sort, 'slug:asc'],
    pagination: { page: query.page, pageSize: query.pageSize, withCount: true },
    fields: SUMMARY_FIELDS,
    populate: POPULATE_AUTHOR,
    status: 'published',
  };
}

/**
 * ContentRepository on Strapi 5 through @pilot/strapi-client (L1/L2 cache, coalescing,
 * timeouts, retries, breaker). Cache tags:
 * - lists: `type:articles` plus every listed article's `doc:` tag;
 * - a slug lookup that found an article: only `doc:articles:<id>` and its author's
 *   `doc:authors:<id>`, so it stays cached when an unrelated article changes;
 * - a slug lookup that found nothing: `type:articles` (a created/published article may take it).
 * Owns both clients: close() closes them.
 */
export function createStrapiContent(options: StrapiContentOptions): ContentRepository {
  const articles = options.read.collection('articles');
  const subscribers = options.write.collection('subscribers');
  const source = options.source ?? 'api';

  async function listArticles(query: ListArticlesQuery): Promise<ArticleListResponse> {
    const result = await mapStrapi(() => articles.find(articleListParams(query), StrapiArticleSummary));
    const { pagination } = result.meta;
    return {
      data: result.data.map(toSummary),
      meta: {
        pagination: {
          page: pagination.page,
          pageSize: pagination.pageSize,
          pageCount: pagination.pageCount,
          total: pagination.total,
        },
      },
    };
  }

  type StoredSubscriber = z.infer<typeof StrapiSubscriber>;

  /** The subscriber with this email (case-insensitive, uncached), or null. */
  async function findSubscriber(email: string): Promise<StoredSubscriber | null> {
    const found = await subscribers.find(
      {
        filters: { email: { $eqi: email } },
        fields: ['email', 'name', 'createdAt'],
        pagination: { page: 1, pageSize: 1, withCount: false },
      },
      StrapiSubscriber,
      { cache: false },
    );
    return found.data[0] ?? null;
  }

  const toSubscriber = (s: StoredSubscriber): Subscriber => ({
    id: s.documentId,
    email: s.email,
    name: s.name ?? null,
    createdAt: s.createdAt,
  });
  const duplicate = () => new ApiError('CONFLICT', { message: DUPLICATE_SUBSCRIBER_MESSAGE });
  const idempotency = options.idempotency ?? createMemoryIdempotencyStore();
  const unknownChecks = options.unknownOutcomeChecksMs ?? [0, 250, 1000, 2000];
  const clockSkewMs = options.clockSkewMs ?? 10;

  /** After an unknown outcome: did the write land? Looks a few times; null if it never shows. */
  async function landed(email: string): Promise<StoredSubscriber | null> {
    for (const delayMs of unknownChecks) {
      if (delayMs > 0) await sleep(delayMs);
      const found = await findSubscriber(email).catch(() => null);
      if (found) return found;
    }
    return null;
  }

  /** `adopt`: an earlier attempt with this Idempotency-Key may have stored it (its outcome was unknown). */
  async function create(email: string, name: string | null, adopt: boolean): Promise<Subscriber> {
    // Ask first: the common duplicate answers 409 without a failed write in Strapi's logs.
    const existing = await mapStrapi(() => findSubscriber(email));
    if (existing) {
      if (adopt) return toSubscriber(existing);
      throw duplicate();
    }
    try {
      const created = await subscribers.create({ email, name, source }, StrapiSubscriber, {
        invalidate: false,
      });
      return toSubscriber(created);
    } catch (error) {
      // A concurrent twin can pass Strapi's unique check and hit the DB index instead (500).
      if (error instanceof StrapiUnavailableError && error.status === 500) {
        const twin = await findSubscriber(email).catch(() => null);
        if (twin) throw duplicate();
      }
      if (outcomeUnknown(error)) {
        // never tell a client "failed" for a subscriber that was stored
        const found = await landed(email);
        if (found) return toSubscriber(found);
        const mapped = toApiError(error) as ApiError;
        throw new ApiError(mapped.code, {
          message:
            'The content service did not confirm the write, so whether it was stored is unknown; retry with the same Idempotency-Key.',
          details: { ...mapped.body.error.details, outcome: 'unknown' },
        });
      }
      throw toApiError(error);
    }
  }

  /**
   * A mirrored request: the same reads and checks, no write. A subscriber with this email created
   * after the gateway received the request (`requestedAt`, less `clockSkewMs`) is the served
   * backend's write of this very request: answered as created, with its id. An older one is a
   * duplicate. None: answered as created, with an id that was never stored.
   */
  async function dryRun(
    email: string,
    name: string | null,
    key: string | undefined,
    requestedAt: number | undefined,
  ): Promise<Subscriber> {
    if (key !== undefined) {
      const record = await idempotency.peek(key);
      if (record?.state === 'done' && record.fingerprint === fingerprintOf({ email, name })) {
        return replay(record.outcome);
      }
    }
    const existing = await mapStrapi(() => findSubscriber(email));
    if (existing) {
      const own = requestedAt !== undefined && Date.parse(existing.createdAt) >= requestedAt - clockSkewMs;
      if (own) return toSubscriber(existing);
      throw duplicate();
    }
    return { id: documentIdLike(), email, name, createdAt: new Date().toISOString() };
  }

  return {
    listArticles,

    getAuthor: (slug) => getAuthorOverGraphQL(options.read, slug),

    cachedArticle(slug) {
      const found = articles.peek(articleBySlug(slug), StrapiArticle, ARTICLE_CACHE)?.data[0];
      return found && toArticle(found);
    },

    getArticle(slug): Promise<Article | null> {
      // one promise on the way (the hot path of a cache hit), failures mapped as mapStrapi does
      return articles.find(articleBySlug(slug), StrapiArticle, ARTICLE_CACHE).then(
        (result) => {
          const found = result.data[0];
          return found ? toArticle(found) : null;
        },
        (error: unknown) => {
          throw toApiError(error);
        },
      );
    },

    async latestArticles(count) {
      const page = await listArticles({ page: 1, pageSize: count, sort: 'publishedAt:desc' });
      return page.data;
    },

    async createSubscriber(input, createOptions = {}): Promise<Subscriber> {
      const email = input.email.toLowerCase();
      const name = input.name ?? null;
      const key = createOptions.idempotencyKey;
      if (createOptions.dryRun) return dryRun(email, name, key, createOptions.requestedAt);
      if (key === undefined) return create(email, name, false);
      return createOnce(idempotency, key, fingerprintOf({ email, name }), (adopt) =>
        create(email, name, adopt),
      );
    },

    async invalidate(payload) {
      const tags = webhookTags(payload);
      if (tags.length > 0) await mapStrapi(() => options.read.invalidateTags(tags));
      return tags;
    },

    async health() {
      const ping = await options.read.ping();
      const redis = options.read.status().redis;
      return { strapi: ping.ok ? 'up' : 'down', redis: redis === 'ready' ? 'up' : redis };
    },

    async close() {
      await Promise.all([options.read.close(), options.write.close()]);
    },
  };
}
