export {
  type CacheOptions,
  type CollectionClient,
  createStrapiClient,
  type SingleTypeClient,
  type StrapiClient,
  type StrapiClientStatus,
  type StrapiListResult,
  type StrapiPagination,
  type StrapiSchema,
  type WriteOptions,
} from './client.ts';
export {
  errorFromResponse,
  isStrapiError,
  parseRetryAfter,
  STRAPI_ERROR_CODES,
  StrapiBadRequestError,
  StrapiBadResponseError,
  StrapiCircuitOpenError,
  StrapiClientClosedError,
  StrapiConfigError,
  StrapiError,
  type StrapiErrorCode,
  type StrapiErrorIssue,
  StrapiForbiddenError,
  StrapiHttpError,
  StrapiNotFoundError,
  StrapiOverloadedError,
  StrapiRateLimitedError,
  StrapiTimeoutError,
  StrapiUnauthorizedError,
  StrapiUnavailableError,
  StrapiValidationError,
} from './errors.ts';
export type {
  BreakerEvent,
  BreakerState,
  CacheEvent,
  InvalidateEvent,
  RedisEvent,
  StrapiClientEvents,
  StrapiEventListener,
  StrapiEventName,
  UpstreamEvent,
} from './events.ts';
export { clientOptionsSchema, type StrapiClientOptions, type StrapiLogger } from './options.ts';
export {
  encodeQuery,
  type StrapiOffsetParams,
  type StrapiPageParams,
  type StrapiQueryParams,
  stableStringify,
} from './query.ts';
export type { PingResult } from './transport.ts';
export { docTag, typeTag } from './tags.ts';
export { type StrapiWebhookPayload, webhookTags } from './webhook.ts';
export {
  defineMutation,
  defineQuery,
  type GraphQLMutation,
  type GraphQLQuery,
  type OperationDefinition,
  type RootField,
} from './graphql/document.ts';
export type { GraphQLCacheOptions, GraphQLClient, GraphQLWriteOptions } from './graphql/client.ts';
export type { GraphQLErrorDetails, GraphQLErrorSummary } from './graphql/errors.ts';
export {
  type GraphQLTagOptions,
  type GraphQLTagPlan,
  graphqlTags,
  createTypeResolver,
  type TypeResolver,
} from './graphql/tags.ts';
export { failFastRedisOptions, type HangWatch, watchForHang } from './cache/fail-fast.ts';
