import {
  ApiError,
  type Article,
  type ArticleListResponse,
  type ArticleSummary,
  type ListArticlesQuery,
  type Subscriber,
} from '@pilot/contracts';
import { type StrapiClient, type StrapiQueryParams, StrapiUnavailableError } from '@pilot/strapi-client';
import { z } from 'zod';
import { mapStrapi, toApiError } from './errors.ts';
import { DUPLICATE_SUBSCRIBER_MESSAGE } from './messages.ts';
import type { ContentRepository } from './repository.ts';
import { docTag, webhookTags } from './webhook-tags.ts';

export interface StrapiContentOptions {
  /** Client with the read-only token: cached reads and webhook invalidation. */
  read: StrapiClient;
  /** Client with the write token (subscribers); its cache is not used for reads. */
  write: StrapiClient;
  /** Stored in `subscriber.source`, e.g. the service name. Default 'api'. */
  source?: string;
}

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

  async function findByEmail(email: string): Promise<boolean> {
    const found = await subscribers.find(
      {
        filters: { email: { $eqi: email } },
        fields: ['email'],
        pagination: { page: 1, pageSize: 1, withCount: false },
      },
      StrapiSubscriber.pick({ documentId: true, email: true }),
      { cache: false },
    );
    return found.data.length > 0;
  }

  return {
    listArticles,

    async getArticle(slug): Promise<Article | null> {
      const result = await mapStrapi(() =>
        articles.find(
          {
            filters: { slug: { $eq: slug } },
            fields: [...SUMMARY_FIELDS, 'body'],
            populate: POPULATE_AUTHOR,
            pagination: { page: 1, pageSize: 1, withCount: false },
            status: 'published',
          },
          StrapiArticle,
          {
            typeTag: 'if-empty',
            tags: (found) =>
              found.data.flatMap((a) =>
                a.author?.documentId ? [docTag('authors', a.author.documentId)] : [],
              ),
          },
        ),
      );
      const found = result.data[0];
      return found ? { ...toSummary(found), body: found.body ?? '' } : null;
    },

    async latestArticles(count) {
      const page = await listArticles({ page: 1, pageSize: count, sort: 'publishedAt:desc' });
      return page.data;
    },

    async createSubscriber(input): Promise<Subscriber> {
      const email = input.email.toLowerCase();
      // Ask first: the common duplicate answers 409 without a failed write in Strapi's logs.
      if (await mapStrapi(() => findByEmail(email))) {
        throw new ApiError('CONFLICT', { message: DUPLICATE_SUBSCRIBER_MESSAGE });
      }
      try {
        const created = await subscribers.create(
          { email, name: input.name ?? null, source },
          StrapiSubscriber,
          {
            invalidate: false,
          },
        );
        return {
          id: created.documentId,
          email: created.email,
          name: created.name ?? null,
          createdAt: created.createdAt,
        };
      } catch (error) {
        // A concurrent twin can pass Strapi's unique check and hit the DB index instead (500).
        if (error instanceof StrapiUnavailableError && error.status === 500) {
          const exists = await findByEmail(email).catch(() => false);
          if (exists) throw new ApiError('CONFLICT', { message: DUPLICATE_SUBSCRIBER_MESSAGE });
        }
        throw toApiError(error);
      }
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
