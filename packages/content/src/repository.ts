import type {
  Article,
  ArticleListResponse,
  ArticleSummary,
  AuthorProfile,
  CreateSubscriberBody,
  ListArticlesQuery,
  StrapiWebhookPayload,
  Subscriber,
} from '@pilot/contracts';

export interface CreateSubscriberOptions {
  /** The request's Idempotency-Key (already checked with parseIdempotencyKey). */
  idempotencyKey?: string | undefined;
  /** Validate and answer as a create would, writing nothing. */
  dryRun?: boolean;
  /**
   * Dry run: when the mirrored request reached the gateway (ms). An entry with this email created
   * at or after it is the served backend's write of the same request; without it, any existing
   * entry is a duplicate.
   */
  requestedAt?: number | undefined;
}

/**
 * What both apps need from the content store, in the public API's shapes. The Strapi-backed
 * implementation goes through @pilot/strapi-client (cache, coalescing, resilience); the
 * in-memory one serves tests and parity runs. Failures are thrown as ApiError from
 * @pilot/contracts (e.g. CONFLICT for a duplicate subscriber, SERVICE_UNAVAILABLE /
 * UPSTREAM_TIMEOUT when Strapi is down or slow), so route handlers only rethrow.
 */
export interface ContentRepository {
  listArticles(query: ListArticlesQuery): Promise<ArticleListResponse>;
  /** null when no published article has this slug. */
  getArticle(slug: string): Promise<Article | null>;
  /**
   * The article getArticle would answer, when the store can give it now without waiting (a
   * fresh cached copy); undefined otherwise, and then getArticle is the way. Lets a route answer
   * a hot read without a promise; never a different answer from getArticle's.
   */
  cachedArticle(slug: string): Article | undefined;
  latestArticles(count: number): Promise<ArticleSummary[]>;
  /** The author with this slug and their latest published articles; null when there is none. */
  getAuthor(slug: string): Promise<AuthorProfile | null>;
  /**
   * Stores a subscriber (CONFLICT for a known email). `idempotencyKey`: at most one create per
   * key (see idempotency.ts). `dryRun` (a mirrored request): the same checks and the same kind of
   * answer, nothing written; see the package README for what a dry run answers.
   */
  createSubscriber(input: CreateSubscriberBody, options?: CreateSubscriberOptions): Promise<Subscriber>;
  /** Drops the cache tags a Strapi webhook affects, on every instance; returns the tags. */
  invalidate(payload: StrapiWebhookPayload): Promise<string[]>;
  /** Readiness: 'up' | 'down' for Strapi, and Redis ('disabled' when not configured). */
  health(): Promise<{ strapi: 'up' | 'down'; redis: 'up' | 'down' | 'disabled' }>;
  close(): Promise<void>;
}
