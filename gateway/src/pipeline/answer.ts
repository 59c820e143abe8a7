import type { IncomingMessage, ServerResponse } from 'node:http';
import { drainBounded, MAX_DRAIN_BYTES, sendError } from '../errors.ts';
import type { PipelineState, RequestContext } from './context.ts';

/**
 * The gateway's own answers, in the one error envelope, marked as the gateway's in the backend
 * header: refusals before a route is served (bad target, no route, body too large, nowhere to
 * send it) and failures of a request in flight (busy, timeout, upstream error).
 */

/** Refuses a request before it is forwarded: counted by reason and access-logged. */
export function refuse(
  state: PipelineState,
  req: IncomingMessage,
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  reason: string,
): void {
  state.metrics.rejected.labels(reason).inc();
  // A refused body is read and dropped (bounded) so the client can read the answer: closing on
  // unread bytes makes the kernel send a reset, which can destroy the 413 before it is read.
  let close = status === 400;
  if (status === 413) {
    const declared = Number(req.headers['content-length'] ?? -1);
    close = declared > MAX_DRAIN_BYTES;
    if (!close) drainBounded(req);
  }
  state.accessLog?.refused(req.method, req.url, status, reason);
  const extra: Record<string, string> = { [state.snapshot.backendHeader]: 'gateway' };
  if (status === 503) extra['retry-after'] = '1';
  sendError(res, status, code, message, close, extra);
}

/** Answers a request the gateway accepted but could not serve (its request id kept). */
export function fail(
  res: ServerResponse,
  ctx: RequestContext,
  status: number,
  code: string,
  message: string,
  retryAfter = false,
): void {
  const extra: Record<string, string> = {
    [ctx.snapshot.backendHeader]: 'gateway',
    'x-request-id': ctx.requestId,
  };
  if (retryAfter) extra['retry-after'] = '1';
  sendError(res, status, code, message, false, extra);
}

/** The request body went over the route's limit: the rest is drained, the answer is a 413. */
export function tooLarge(res: ServerResponse, ctx: RequestContext): void {
  const req = res.req;
  req.unpipe();
  drainBounded(req);
  fail(res, ctx, 413, 'PAYLOAD_TOO_LARGE', `request body over ${ctx.route.maxBodyBytes} bytes`);
}
