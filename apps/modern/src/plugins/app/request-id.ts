import { HEADERS } from '@pilot/contracts';
import { requestIdFrom } from '@pilot/service-kit';
import type { RawRequestDefaultExpression } from 'fastify';

/**
 * Fastify's `genReqId`: honours a well-formed incoming X-Request-Id, else a fresh UUID (the
 * same rule as legacy, from @pilot/service-kit). The id is echoed by the headers plugin.
 */
export function genReqId(req: RawRequestDefaultExpression): string {
  return requestIdFrom(req.headers[HEADERS.requestId]);
}
