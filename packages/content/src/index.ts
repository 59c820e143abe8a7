export {
  createMemoryContent,
  type MemoryContent,
  type MemoryContentOptions,
  queryArticles,
} from './memory.ts';
export {
  createMemoryIdempotencyStore,
  createRedisIdempotencyStore,
  IDEMPOTENCY_TTL_MS,
  type IdempotencyRecord,
  type IdempotencyStore,
  parseIdempotencyKey,
  type RedisCaller,
} from './idempotency.ts';
export type { ContentRepository, CreateSubscriberOptions } from './repository.ts';
export {
  type ContentSeed,
  createSeed,
  type SeedArticle,
  type SeedAuthor,
  type SeedOptions,
  seedDocumentId,
  slugify,
} from './seed.ts';
export { docTag, typeTag, webhookTags } from './webhook-tags.ts';
export { mapStrapi, toApiError } from './errors.ts';
export { DUPLICATE_SUBSCRIBER_MESSAGE } from './messages.ts';
export { articleListParams, createStrapiContent, type StrapiContentOptions } from './strapi.ts';
export { AuthorWithLatestArticles, getAuthorOverGraphQL } from './authors.ts';
export { readiness } from './readiness.ts';
