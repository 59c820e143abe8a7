import {
  errorFromResponse,
  parseRetryAfter,
  StrapiBadRequestError,
  StrapiBadResponseError,
  type StrapiError,
  type StrapiErrorInit,
  StrapiForbiddenError,
  StrapiHttpError,
  StrapiNotFoundError,
  StrapiRateLimitedError,
  StrapiUnauthorizedError,
  StrapiUnavailableError,
  StrapiValidationError,
} from '../errors.ts';
import type { TransportAnswer } from '../transport.ts';

/** One entry of a GraphQL `errors` array, as carried in a StrapiError's `details.errors`. */
export interface GraphQLErrorSummary {
  message: string;
  /** `path` joined with dots, e.g. `authors.0.articles`. */
  path?: string;
  /** `extensions.code` (`FORBIDDEN`, `GRAPHQL_VALIDATION_FAILED`, `INTERNAL_SERVER_ERROR`, …). */
  code?: string;
  /** Strapi's `extensions.error.name` (`ForbiddenError`, `ValidationError`, …). */
  name?: string;
}

/** `details` of a StrapiError raised from a GraphQL answer. */
export interface GraphQLErrorDetails {
  operationName: string;
  errors: GraphQLErrorSummary[];
  /** The answer also carried (partial) `data`; it was discarded, never returned nor cached. */
  partial: boolean;
  /** Strapi's own `extensions.error.details` of the first error (validation issues). */
  strapiDetails?: unknown;
}

/** Apollo / graphql-js codes that mean "this operation is wrong", not "Strapi is unwell". */
const REQUEST_CODES = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'BAD_REQUEST',
  'OPERATION_RESOLUTION_FAILURE',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'STRAPI_APPLICATION_ERROR',
]);

const MAX_ERRORS = 10;

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function summarise(raw: unknown): GraphQLErrorSummary & { strapiDetails?: unknown } {
  const error = isRecord(raw) ? raw : {};
  const extensions = isRecord(error.extensions) ? error.extensions : {};
  const strapi = isRecord(extensions.error) ? extensions.error : {};
  const summary: GraphQLErrorSummary & { strapiDetails?: unknown } = {
    message: typeof error.message === 'string' ? error.message.slice(0, 500) : 'GraphQL error',
  };
  if (Array.isArray(error.path)) summary.path = error.path.map(String).join('.');
  if (typeof extensions.code === 'string') summary.code = extensions.code;
  if (typeof strapi.name === 'string') summary.name = strapi.name;
  if (strapi.details !== undefined) summary.strapiDetails = strapi.details;
  return summary;
}

function errorClassFor(status: number, first: GraphQLErrorSummary) {
  const { code, name } = first;
  if (status === 429 || name === 'RateLimitError' || code === 'STRAPI_RATE_LIMIT_ERROR') return 'rate';
  if (status >= 500) return 'unavailable';
  if (status === 401 || code === 'UNAUTHENTICATED' || name === 'UnauthorizedError') return 'unauthorized';
  if (status === 403 || code === 'FORBIDDEN' || name === 'ForbiddenError' || name === 'PolicyError') {
    return 'forbidden';
  }
  if (status === 404 || name === 'NotFoundError' || code === 'STRAPI_NOT_FOUND_ERROR') return 'not-found';
  if (name === 'ValidationError' || name === 'YupValidationError') return 'validation';
  if (status === 400 || (code !== undefined && REQUEST_CODES.has(code)) || name === 'ApplicationError') {
    return 'bad-request';
  }
  // A resolver that threw (Strapi answers 200 + INTERNAL_SERVER_ERROR): a Strapi-side failure,
  // like a REST 500 — counted by the breaker, not retried.
  if (code === undefined || code === 'INTERNAL_SERVER_ERROR') return 'unavailable';
  return 'other';
}

/**
 * A GraphQL answer with `errors` (any status, with or without partial `data`) as the typed
 * error REST would raise for the same cause: unauthenticated → StrapiUnauthorizedError,
 * forbidden → StrapiForbiddenError, not found → StrapiNotFoundError, Strapi validation →
 * StrapiValidationError, an invalid operation (parse, validation incl. the depth limit, bad
 * variables) → StrapiBadRequestError, rate limit → StrapiRateLimitedError, a resolver that
 * failed or a 5xx → StrapiUnavailableError. Partial data is discarded.
 */
export function graphqlErrorFrom(
  answer: TransportAnswer,
  operationName: string,
  rawErrors: readonly unknown[],
  partial: boolean,
): StrapiError {
  const all = rawErrors.slice(0, MAX_ERRORS).map(summarise);
  const first = all[0] ?? { message: 'GraphQL error' };
  const errors: GraphQLErrorSummary[] = all.map(({ strapiDetails: _, ...rest }) => rest);
  const details: GraphQLErrorDetails = { operationName, errors, partial };
  if (first.strapiDetails !== undefined) details.strapiDetails = first.strapiDetails;
  const more = rawErrors.length > 1 ? ` (+${rawErrors.length - 1} more)` : '';
  const where = first.path ? ` at ${first.path}` : '';
  const message = `Strapi GraphQL ${operationName} failed${partial ? ' (partial data discarded)' : ''}: ${first.message}${where}${more}`;
  const init: StrapiErrorInit = {
    method: answer.method,
    path: answer.path,
    strapiName: first.name ?? first.code,
    details,
  };
  const status = answer.status >= 200 && answer.status < 300 ? undefined : answer.status;
  switch (errorClassFor(answer.status, first)) {
    case 'rate':
      return new StrapiRateLimitedError(message, {
        ...init,
        retryAfterMs: parseRetryAfter(answer.retryAfter),
      });
    case 'unavailable':
      return new StrapiUnavailableError(message, {
        ...init,
        status: status ?? 500,
        retryAfterMs: parseRetryAfter(answer.retryAfter),
      });
    case 'unauthorized':
      return new StrapiUnauthorizedError(message, init);
    case 'forbidden':
      return new StrapiForbiddenError(message, init);
    case 'not-found':
      return new StrapiNotFoundError(message, init);
    case 'validation': {
      // StrapiValidationError reads `details.errors` as Strapi's validation issues.
      const validation = new StrapiValidationError(message, { ...init, details: first.strapiDetails });
      Object.defineProperty(validation, 'details', { value: { ...details }, enumerable: true });
      return validation;
    }
    case 'bad-request':
      return new StrapiBadRequestError(message, init);
    default:
      return new StrapiHttpError(message, { ...init, status: status ?? 200 });
  }
}

/**
 * The transport's `interpret` step for GraphQL: `errors` → a typed error (even with 200 and
 * partial data); a non-2xx without `errors` (e.g. Strapi's REST-style 401 for a missing token,
 * a proxy's 502) → the REST mapping; a 2xx without a `data` object → StrapiBadResponseError.
 * Returns the body (`{ data }`) otherwise.
 */
export function interpretGraphQL(operationName: string): (answer: TransportAnswer) => unknown {
  return (answer) => {
    const body = answer.body;
    const errors = isRecord(body) && Array.isArray(body.errors) ? body.errors : undefined;
    if (errors && errors.length > 0) {
      const partial = isRecord(body) && isRecord(body.data);
      throw graphqlErrorFrom(answer, operationName, errors, partial);
    }
    if (answer.status === 404 || answer.status === 405) {
      // The endpoint itself is missing, not a document: a configuration problem, never "gone".
      throw new StrapiHttpError(
        `Strapi has no GraphQL endpoint at ${answer.path} (${answer.status}): is the GraphQL plugin enabled there?`,
        { status: answer.status, method: answer.method, path: answer.path },
      );
    }
    if (answer.status < 200 || answer.status >= 300) {
      throw errorFromResponse(answer.status, body, {
        method: answer.method,
        path: answer.path,
        retryAfter: answer.retryAfter,
      });
    }
    if (!isRecord(body) || !isRecord(body.data)) {
      throw new StrapiBadResponseError(`Strapi GraphQL ${operationName} answered without a data object`, {
        method: answer.method,
        path: answer.path,
        status: answer.status,
        issues: [{ path: 'data', message: 'expected an object' }],
      });
    }
    return body;
  };
}
