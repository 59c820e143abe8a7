import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { stripShadowHeader } from '../shadow/mirror.ts';
import type { CompiledRoute } from '../table.ts';
import { refuse } from './answer.ts';
import { tapBody } from './body-tap.ts';
import { choose, pickBackend } from './choose.ts';
import { attachContext, type PipelineState, type RequestContext, type Snapshot } from './context.ts';
import { dispatch } from './forward.ts';
import { prepareUpstreamHeaders } from './headers.ts';
import { matchRoute } from './match.ts';
import { normalizeTarget, requestSmell } from './normalize.ts';
import { record } from './record.ts';
import { traceRequest } from './tracing.ts';

/**
 * The request path, one step after the other:
 *
 *   normalise → match → limit → choose → forward → (fallback) → record
 *
 * Each step is a module of this folder. The handler reads the table snapshot once, when the
 * request arrives; a reload installs a new one for the requests after it. Nothing here does
 * I/O but the proxied request (and the shadow's mirror of it), and the rate-limit counters
 * when they live in Redis (bounded by a deadline; see rate-limit.ts). A step that refuses answers
 * the client itself (answer.ts) and the request goes no further.
 */
export type Handler = (req: IncomingMessage, res: ServerResponse, expectsContinue?: boolean) => void;

const REQUEST_ID = /^[A-Za-z0-9._:@-]{1,128}$/;

/** A request that matched a route: what the steps after match are given. */
export interface Matched {
  start: number;
  snapshot: Snapshot;
  route: CompiledRoute;
  method: string;
  /** The normalised path and query, as forwarded. */
  url: string;
  /** Declared Content-Length; -1: chunked; 0: none. */
  bodyLength: number;
  expectsContinue: boolean;
}

export function createHandler(state: PipelineState): Handler {
  return (req, res, expectsContinue = false) => {
    const start = performance.now();
    const snapshot = state.snapshot;

    // normalise
    const target = normalizeTarget(req.url ?? '');
    if (!target.ok) {
      refuse(state, req, res, 400, 'BAD_REQUEST_TARGET', target.reason, 'bad_target');
      return;
    }
    const smell = requestSmell(req);
    if (smell) {
      refuse(state, req, res, 400, 'BAD_REQUEST', smell, 'bad_request');
      return;
    }

    // match
    const method = req.method ?? 'GET';
    const route = matchRoute(snapshot.table.routes, target.lower, method);
    if (!route) {
      refuse(state, req, res, 404, 'NO_ROUTE', 'no route for this path and method', 'no_route');
      return;
    }
    const cl = req.headers['content-length'];
    const bodyLength =
      req.headers['transfer-encoding'] !== undefined ? -1 : cl !== undefined ? Number(cl) : 0;
    if (bodyLength > route.maxBodyBytes) {
      const message = `request body over ${route.maxBodyBytes} bytes`;
      refuse(state, req, res, 413, 'PAYLOAD_TOO_LARGE', message, 'body_too_large');
      return;
    }
    const matched: Matched = {
      start,
      snapshot,
      route,
      method,
      url: target.path + target.search,
      bodyLength,
      expectsContinue,
    };

    // limit: counted per client and route; over a quota → 429 here (rate-limit.ts)
    state.limits.admit(req, res, snapshot.table, route, () => serve(state, req, res, matched));
  };
}

/** choose → forward, with fallback and record hooked onto the request's life. */
function serve(state: PipelineState, req: IncomingMessage, res: ServerResponse, m: Matched): void {
  const { start, snapshot, route, method, bodyLength } = m;

  // choose
  const choice = choose(route, req);
  const picked = pickBackend(state, route, choice.backend, method, bodyLength);
  if (!picked.backend) {
    state.metrics.recorder(route.id, choice.backend).record(503, performance.now() - start);
    const message = `backend "${choice.backend}" is unavailable`;
    refuse(state, req, res, 503, 'BACKEND_UNAVAILABLE', message, 'unavailable');
    return;
  }
  if (picked.reason) {
    state.metrics.fallbacks.labels(route.id, choice.backend, picked.backend.name, picked.reason).inc();
  }

  // forward
  if (m.expectsContinue) res.writeContinue();
  const incomingId = req.headers['x-request-id'];
  const requestId = typeof incomingId === 'string' && REQUEST_ID.test(incomingId) ? incomingId : randomUUID();
  prepareUpstreamHeaders(req, { requestId, trustProxy: snapshot.table.settings.trustProxy });
  stripShadowHeader(req.headers);
  req.url = m.url;
  const ctx: RequestContext = {
    start,
    requestId,
    snapshot,
    route,
    backend: picked.backend,
    breaker: picked.breaker,
    method,
    bodyLength,
    attempt: picked.reason ? 1 : 0,
    fallbackFrom: picked.reason ? choice.backend : null,
    fallbackReason: picked.reason,
    setCookie: choice.setCookie,
    tap: undefined,
    shadow: null,
    proxyReq: null,
    sentAt: 0,
    headTimeoutMs: 0,
    slot: null,
    queued: null,
    response: null,
    timedOut: false,
    tooLarge: false,
    rescued: false,
    errorKind: null,
    reusedSocket: false,
    retried: false,
    closed: false,
    trace: undefined,
    waitingAt: -1,
  };
  attachContext(req, ctx);
  ctx.trace = traceRequest(req, ctx, choice);
  if (route.shadow) {
    const shadowTrace = route.shadow.paused
      ? undefined
      : ctx.trace?.shadow(req.headers, route.shadow.backend);
    ctx.shadow = state.shadows.mirror({
      route,
      served: picked.backend,
      method,
      path: req.url,
      headers: shadowTrace?.headers ?? req.headers,
      requestId,
      bodyLength,
      onVerdict: shadowTrace?.verdict,
    });
  }
  if (bodyLength === -1 || (ctx.shadow?.hasBody ?? false)) tapBody(req, res, ctx);
  state.inFlight++;
  // record (fallback, if it comes to that, happens inside forward)
  res.once('close', () => record(state, req, res, ctx));
  dispatch(state, req, res, ctx);
}
