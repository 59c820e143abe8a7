import type { ServerResponse } from 'node:http';
import { IDEMPOTENT_METHODS } from '../config/schema.ts';
import type { Backend } from './backends.ts';
import type { FallbackReason, PipelineState, RequestContext } from './context.ts';

/**
 * Fallback: when a request may go to its route's fallback backend, and the move itself.
 *
 * Only idempotent methods, and only without a request body (bodies are streamed, never
 * buffered, so they cannot be replayed). Triggers: connect error, timeout, reset before a
 * response, a 5xx status, no connection within the queue timeout (`queue`), the backend
 * ejected while the request waited (`ejected`), or, before anything was sent, a backend that is
 * ejected (`unavailable`) or out of this route by its breaker (`breaker`; then the other side of
 * a split may take any request). The caller forwards again once a move succeeded.
 */
export type { FallbackReason };

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

/**
 * Moves a failed request onto its route's fallback backend, when it may go there: its slot on
 * the old backend is released, the move counted. True: the caller forwards it again.
 */
export function moveToFallback(
  state: PipelineState,
  res: ServerResponse,
  ctx: RequestContext,
  reason: FallbackReason,
): boolean {
  if (ctx.attempt > 0 || !ctx.route.fallback || res.headersSent || state.closing) return false;
  if (!mayFallback(ctx.method, ctx.bodyLength)) return false;
  const fb = state.pool.get(ctx.route.fallback);
  if (!fb || fb === ctx.backend || !fb.admit()) return false;
  state.metrics.fallbacks.labels(ctx.route.id, ctx.backend.name, fb.name, reason).inc();
  ctx.backend.waiting.delete(ctx);
  releaseSlot(ctx);
  ctx.fallbackFrom = ctx.backend.name;
  ctx.fallbackReason = reason;
  ctx.backend = fb;
  ctx.breaker = state.breakers.get(ctx.route.id, fb.name, ctx.route.breaker);
  ctx.attempt++;
  ctx.proxyReq = null;
  return true;
}

/** A backend was just ejected: idempotent requests still waiting on it are cut, to move on. */
export function rescue(state: PipelineState, backend: Backend): void {
  for (const w of backend.waiting.snapshot()) {
    const ctx = w as RequestContext;
    const fb = ctx.route.fallback ? state.pool.get(ctx.route.fallback) : undefined;
    if (ctx.attempt > 0 || !fb || fb === backend || !fb.available()) continue;
    if (!mayFallback(ctx.method, ctx.bodyLength)) continue;
    backend.waiting.delete(ctx);
    ctx.rescued = true;
    ctx.proxyReq?.destroy(Object.assign(new Error(`backend "${backend.name}" ejected`), { code: 'EJECTED' }));
  }
}

/**
 * Where a failure before the response counts. The backend (every route): it refused the
 * connection — it is not there. The route only: a timeout (the route's dependency may be
 * slow; a backend that answers nothing at all is the stall detector's case) and a reset (a
 * backend refusing one upload, or failing on one kind of request, says nothing about its
 * other routes; one that died answers the next connection with a refusal).
 */
export function account(ctx: RequestContext, kind: 'connect' | 'timeout' | 'reset'): void {
  const now = Date.now();
  if (kind === 'connect') ctx.backend.outlier.gatewayFailure(now);
  else ctx.breaker.record(false, now);
}

export function releaseSlot(ctx: RequestContext): void {
  const slot = ctx.slot;
  if (slot) {
    ctx.slot = null;
    slot.release();
  }
}
