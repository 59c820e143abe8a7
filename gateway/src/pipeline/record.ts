import { performance } from 'node:perf_hooks';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { releaseSlot } from './fallback.ts';
import type { PipelineState, RequestContext } from './context.ts';

/**
 * Record: when the response closes (finished, or the client went away: 499), the request's
 * connection slot is released and it is counted once — metrics per route and backend (a few
 * array increments, see metrics.ts), the access log line, the shadow told if it still waits.
 */
export function record(
  state: PipelineState,
  req: IncomingMessage,
  res: ServerResponse,
  ctx: RequestContext,
): void {
  ctx.closed = true;
  // the client went away before the end: the upstream request (and its socket) goes too
  if (!res.writableFinished) ctx.proxyReq?.destroy();
  state.inFlight--;
  ctx.backend.waiting.delete(ctx);
  if (ctx.queued) {
    ctx.queued.dead = true;
    ctx.queued = null;
  }
  releaseSlot(ctx);
  const ms = performance.now() - ctx.start;
  const status = res.headersSent ? res.statusCode : 499;
  if (ctx.shadow) ctx.shadow.setPrimary({ error: res.writableFinished ? 'no capture' : 'client closed' });
  ctx.trace?.close(res);
  state.metrics.recorder(ctx.route.id, ctx.backend.name).record(status, ms, ctx.trace?.traceId);
  state.accessLog?.served(ctx, req.url, status, ms);
  if (state.closing && state.inFlight === 0) state.events.emit('drained');
}
