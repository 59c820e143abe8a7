import type { ClientRequest, IncomingMessage, ServerResponse } from 'node:http';
import { fail, tooLarge } from './answer.ts';
import type { Queued, Waiting } from './backends.ts';
import type { PipelineState, RequestContext } from './context.ts';
import { account, errorKind, mayFallback, moveToFallback } from './fallback.ts';
import { responseHeaders } from './headers.ts';

/**
 * Forward: a connection slot of the backend's budget (or a place in its queue), the request
 * sent on the backend's keep-alive agent with node:http, the response head written by us and
 * the body piped back. Bodies stream both ways; nothing is parsed or buffered.
 *
 * Writing the response head ourselves is what strips hop-by-hop headers from the raw headers
 * (repeated Set-Cookie survive), adds the backend header and the request id, lets a 5xx still
 * go to a fallback and a shadowed route capture the served body for the diff. Failures before
 * the response are counted where they belong (fallback.ts `account`) and the request moves to
 * the fallback when it may; otherwise the client gets 502/503/504 in the envelope.
 *
 * On node:http directly rather than through http-proxy-middleware: see README.md#library-choices.
 */

/** Takes a connection slot of the backend's budget (ordinary or stream), or queues for one. */
export function dispatch(
  state: PipelineState,
  req: IncomingMessage,
  res: ServerResponse,
  ctx: RequestContext,
): void {
  const budget = ctx.route.stream ? ctx.backend.streamBudget : ctx.backend.budget;
  if (budget.tryAcquire()) {
    ctx.slot = budget;
    send(state, req, res, ctx);
    return;
  }
  const queued: Queued = {
    queuedAt: Date.now(),
    dead: false,
    go: () => {
      ctx.queued = null;
      ctx.slot = budget;
      send(state, req, res, ctx);
    },
    expire: () => {
      ctx.queued = null;
      queueTimeout(state, req, res, ctx);
    },
  };
  ctx.queued = queued;
  budget.enqueue(queued);
}

function send(state: PipelineState, req: IncomingMessage, res: ServerResponse, ctx: RequestContext): void {
  if (ctx.tooLarge) {
    tooLarge(res, ctx);
    return;
  }
  const backend = ctx.backend;
  ctx.timedOut = false;
  ctx.headTimeoutMs = ctx.route.timeoutMs ?? backend.config.timeoutMs;
  // the backend's own name (the client's is in X-Forwarded-Host, see headers.ts)
  req.headers.host = backend.host;
  const proxyReq = backend.request(ctx.method, req.url!, req.headers, ctx.route.stream);
  ctx.proxyReq = proxyReq;
  ctx.response = null;
  proxyReq.on('response', (proxyRes) => onResponse(state, proxyRes, req, res, ctx, proxyReq));
  proxyReq.on('error', (err) => onUpstreamError(state, err, req, res, ctx, proxyReq));
  // a body-less request is sent with its head; one with a body once it is written (the sweep looks)
  backend.waiting.add(ctx);
  if (ctx.bodyLength === 0) {
    ctx.sentAt = Date.now();
    proxyReq.end();
  } else {
    ctx.sentAt = 0;
    const body = ctx.tap ?? req;
    // a client that stops sending mid-body: the upload is cut, not left waiting upstream
    req.once('close', () => {
      if (!req.complete) proxyReq.destroy();
    });
    body.pipe(proxyReq);
  }
}

/** No connection within queueTimeoutMs: the fallback, or a fast 503. Not the backend's failure. */
function queueTimeout(
  state: PipelineState,
  req: IncomingMessage,
  res: ServerResponse,
  ctx: RequestContext,
): void {
  ctx.errorKind = 'queue';
  state.metrics.upstreamErrors.labels(ctx.route.id, ctx.backend.name, 'queue').inc();
  if (moveToFallback(state, res, ctx, 'queue')) {
    dispatch(state, req, res, ctx);
    return;
  }
  ctx.shadow?.setPrimary({ error: 'no connection to the backend in time' });
  fail(
    res,
    ctx,
    503,
    'BACKEND_BUSY',
    `no connection to backend "${ctx.backend.name}" within ${ctx.backend.config.queueTimeoutMs} ms`,
    true,
  );
}

/** The response head is overdue (the pool's sweep says so): the request fails as a timeout. */
export function headTimeout(w: Waiting): void {
  const ctx = w as RequestContext;
  ctx.timedOut = true;
  ctx.proxyReq?.destroy(
    Object.assign(new Error(`no response within ${ctx.headTimeoutMs} ms`), { code: 'ETIMEDOUT' }),
  );
}

function onResponse(
  state: PipelineState,
  proxyRes: IncomingMessage,
  req: IncomingMessage,
  res: ServerResponse,
  ctx: RequestContext,
  proxyReq: ClientRequest,
): void {
  if (ctx.proxyReq !== proxyReq) {
    proxyRes.resume(); // an attempt given up on (timed out, moved): its late answer is dropped
    return;
  }
  ctx.response = proxyRes;
  const backend = ctx.backend;
  backend.waiting.delete(ctx);
  const now = Date.now();
  backend.lastProgress = now;
  backend.outlier.success();
  const status = proxyRes.statusCode ?? 502;
  ctx.breaker.record(status < 500, now);
  if (ctx.bodyLength !== 0 && !proxyReq.writableFinished) drainEarlyAnswer(req, proxyReq, proxyRes, ctx);
  if (status >= 500 && moveToFallback(state, res, ctx, '5xx')) {
    proxyRes.resume();
    dispatch(state, req, res, ctx);
    return;
  }
  if (res.destroyed) {
    proxyRes.destroy(); // the client is gone already
    return;
  }
  const snap = ctx.snapshot;
  const extra = [snap.backendHeader, backend.name, 'x-request-id', ctx.requestId];
  if (ctx.setCookie) extra.push('set-cookie', ctx.setCookie);
  res.writeHead(status, proxyRes.statusMessage, responseHeaders(proxyRes, extra, snap.ownHeaders));
  const type = proxyRes.headers['content-type'];
  if (type?.startsWith('text/event-stream')) {
    res.flushHeaders();
    if (!ctx.route.stream && !state.streamWarned.has(ctx.route.id)) {
      state.streamWarned.add(ctx.route.id);
      state.logger.warn(
        { route: ctx.route.id },
        'route answers an event stream but is not marked stream: true; its streams use the ordinary connection budget',
      );
    }
  }
  const idle = ctx.route.idleTimeoutMs ?? backend.config.idleTimeoutMs;
  if (idle > 0) {
    proxyReq.setTimeout(idle, () => {
      ctx.timedOut = true;
      proxyReq.destroy(Object.assign(new Error(`upstream idle for ${idle} ms`), { code: 'ETIMEDOUT' }));
    });
  }
  // the backend fails mid-body: the client's response is cut too (it cannot be told otherwise)
  proxyRes.on('close', () => {
    if (!proxyRes.complete && !res.destroyed) res.destroy();
  });
  ctx.shadow?.capturePrimary(proxyRes);
  proxyRes.pipe(res);
}

/**
 * The backend answered before it read the whole request body (a 413 of its own, say): the rest
 * of the client's body is read and dropped once the answer is through, not sent on.
 */
function drainEarlyAnswer(
  req: IncomingMessage,
  proxyReq: ClientRequest,
  proxyRes: IncomingMessage,
  ctx: RequestContext,
): void {
  const body = ctx.tap ?? req;
  const drop = () => {
    if (proxyReq.writableFinished) return;
    body.unpipe(proxyReq);
    body.resume();
  };
  proxyRes.once('end', drop);
  proxyRes.once('close', () => {
    drop();
    if (!proxyReq.writableFinished) proxyReq.destroy();
  });
}

function onUpstreamError(
  state: PipelineState,
  err: Error,
  req: IncomingMessage,
  res: ServerResponse,
  ctx: RequestContext,
  proxyReq: ClientRequest,
): void {
  // an attempt already given up on, or a client already gone (its response closed): nothing
  // to answer, and not the backend's failure
  if (ctx.proxyReq !== proxyReq || ctx.closed) return;
  // the answer was already whole (a HEAD answered with a body, say: the extra bytes break the
  // connection, not the answer): it goes to the client as it is, and the broken connection is
  // Node's to drop
  if (ctx.response?.complete) return;
  const backend = ctx.backend;
  backend.waiting.delete(ctx);
  if (ctx.tooLarge) {
    tooLarge(res, ctx);
    return;
  }
  // the client went away mid-upload: not the backend's fault
  if (req.destroyed && !req.complete) {
    res.destroy();
    return;
  }
  if (ctx.rescued) {
    ctx.rescued = false;
    if (moveToFallback(state, res, ctx, 'ejected')) {
      dispatch(state, req, res, ctx);
      return;
    }
    ctx.errorKind = 'ejected';
    ctx.shadow?.setPrimary({ error: err.message });
    fail(res, ctx, 503, 'BACKEND_UNAVAILABLE', `backend "${backend.name}" is unavailable`, true);
    return;
  }
  const kind = errorKind(err as NodeJS.ErrnoException, ctx.timedOut);
  ctx.errorKind = kind;
  // A keep-alive socket the backend had just closed: the request never reached it. Retry once
  // on a fresh connection when the request can be replayed; not the backend's failure.
  if (
    kind === 'reset' &&
    proxyReq.reusedSocket &&
    !ctx.retried &&
    !res.headersSent &&
    !state.closing &&
    mayFallback(ctx.method, ctx.bodyLength)
  ) {
    ctx.retried = true;
    state.metrics.upstreamErrors.labels(ctx.route.id, backend.name, 'stale_socket').inc();
    send(state, req, res, ctx);
    return;
  }
  if (!res.headersSent) {
    state.metrics.upstreamErrors.labels(ctx.route.id, backend.name, kind).inc();
    account(ctx, kind);
  }
  if (moveToFallback(state, res, ctx, kind)) {
    dispatch(state, req, res, ctx);
    return;
  }
  ctx.shadow?.setPrimary({ error: err.message });
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (kind === 'timeout') {
    fail(
      res,
      ctx,
      504,
      'UPSTREAM_TIMEOUT',
      `backend "${backend.name}" did not answer within ${ctx.headTimeoutMs} ms`,
    );
  } else {
    fail(res, ctx, 502, 'BAD_GATEWAY', `backend "${backend.name}" failed (${kind})`);
  }
}
