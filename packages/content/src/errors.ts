import { ApiError } from '@pilot/contracts';
import {
  StrapiBadResponseError,
  StrapiClientClosedError,
  StrapiError,
  StrapiRateLimitedError,
  StrapiTimeoutError,
  StrapiUnavailableError,
  StrapiValidationError,
} from '@pilot/strapi-client';

import { DUPLICATE_SUBSCRIBER_MESSAGE } from './messages.ts';

/**
 * A Strapi client failure in the public API's terms:
 * - timeout → 504 UPSTREAM_TIMEOUT;
 * - unreachable, 5xx, breaker open, concurrency cap full, rate limited, client closed → 503
 *   SERVICE_UNAVAILABLE (retry later);
 * - a unique-attribute ValidationError → 409 CONFLICT;
 * - anything else Strapi answered that we can't use (bad shape, 401/403 for our token, other
 *   400s) → 502 UPSTREAM_FAILED: the caller's request was fine, our upstream was not.
 * Non-Strapi errors are returned as they are (they are bugs: the app answers 500).
 */
export function toApiError(error: unknown): unknown {
  if (error instanceof ApiError || !(error instanceof StrapiError)) return error;
  const details = { upstream: 'strapi', code: error.code };
  if (error instanceof StrapiTimeoutError) return new ApiError('UPSTREAM_TIMEOUT', { details });
  if (
    error instanceof StrapiUnavailableError ||
    error instanceof StrapiRateLimitedError ||
    error instanceof StrapiClientClosedError
  ) {
    return new ApiError('SERVICE_UNAVAILABLE', {
      message: 'The content service is unavailable; retry later.',
      details,
    });
  }
  if (error instanceof StrapiValidationError && error.isUniqueViolation) {
    return new ApiError('CONFLICT', { message: DUPLICATE_SUBSCRIBER_MESSAGE });
  }
  if (error instanceof StrapiBadResponseError) return new ApiError('UPSTREAM_FAILED', { details });
  return new ApiError('UPSTREAM_FAILED', { details });
}

/** Runs a Strapi call and rethrows its failure as an ApiError. */
export async function mapStrapi<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw toApiError(error);
  }
}
