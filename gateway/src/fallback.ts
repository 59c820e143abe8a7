import { IDEMPOTENT_METHODS } from './config/schema.ts';

/**
 * When a request may go to the route's fallback backend: only idempotent methods, and only
 * without a request body (bodies are streamed, never buffered, so they cannot be replayed).
 * Triggers: connect error, timeout, reset before a response, a 5xx status, no connection within
 * the queue timeout (`queue`), the backend ejected while the request waited (`ejected`), or,
 * before anything was sent, a backend that is ejected (`unavailable`) or out of this route by
 * its breaker (`breaker`; then the other side of a split may take any request).
 */
export type FallbackReason =
  | 'connect'
  | 'timeout'
  | 'reset'
  | '5xx'
  | 'unavailable'
  | 'breaker'
  | 'queue'
  | 'ejected';

export function mayFallback(method: string, bodyLength: number): boolean {
  return bodyLength === 0 && IDEMPOTENT_METHODS.has(method);
}

export function errorKind(err: NodeJS.ErrnoException, timedOut: boolean): 'connect' | 'timeout' | 'reset' {
  if (timedOut || err.code === 'ETIMEDOUT') return 'timeout';
  if (
    err.code === 'ECONNREFUSED' ||
    err.code === 'ENOTFOUND' ||
    err.code === 'EHOSTUNREACH' ||
    err.code === 'EAI_AGAIN'
  ) {
    return 'connect';
  }
  return 'reset';
}
