import { ApiError, type ReadyResponse } from '@pilot/contracts';
import type { ContentRepository } from './repository.ts';

/**
 * GET /ready for both apps: the store's checks, or ApiError NOT_READY (503) carrying them when
 * Strapi or a configured Redis is down. A failing health() itself counts as both down.
 */
export async function readiness(content: ContentRepository): Promise<ReadyResponse> {
  let checks: ReadyResponse['checks'];
  try {
    checks = await content.health();
  } catch {
    checks = { strapi: 'down', redis: 'down' };
  }
  if (checks.strapi === 'down' || checks.redis === 'down') {
    throw new ApiError('NOT_READY', { details: { checks } });
  }
  return { status: 'ready', checks };
}
