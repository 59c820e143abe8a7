import type { ClientRequest, IncomingMessage, ServerResponse } from 'node:http';
import { createProxyMiddleware, type Plugin } from 'http-proxy-middleware';
import { sendError } from '../errors.ts';
import type { Queued, Waiting } from './backends.ts';
import { fail, tooLarge } from './answer.ts';
import { contextOf, type Forward, type PipelineState, type RequestContext } from './context.ts';
import { account, errorKind, mayFallback, moveToFallback } from './fallback.ts';
import { responseHeaders } from './headers.ts';

/**
 * Forward: a connection slot of the backend's budget (or a place in its queue), the request
 * sent through http-proxy-middleware (httpxy underneath) on the backend's keep-alive agent, the
 * response head written by us and the body piped back. Writing the response ourselves
 * (`selfHandleResponse`) is what lets hop-by-hop headers be stripped, the backend header and
 * request id be added, a 5xx still go to a fallback, and a shadowed route capture the served
 * body for the diff. Bodies stream both ways; nothing is parsed.
 *
 * Failures before the response are counted where they belong (fallback.ts `account`) and the
 * request moves to the fallback when it may; otherwise the client gets 502/503/504.
 */
export type { Forward };

/** One http-proxy-middleware instance for every route; the backend is chosen per request. */
export function createForward(state: PipelineState): Forward {
  const plugin: Plugin = (proxyServer) => {
    proxyServer.on('proxyReq', (proxyReq, req) => {
      if (req) onProxyReq(proxyReq, req);
    });
    proxyServer.on('proxyRes', (proxyRes, req, res) => onProxyRes(state, proxyRes, req, res));
    proxyServer.on('error', (err, req, res) => {
      if (req && res && 'writeHead' in res) onUpstreamError(state, err, req, res as ServerResponse);
    });
    // the client's socket is gone before the upstream answered: same path, it sees req.destroyed
    proxyServer.on('econnreset', (err, req, res) => {
      if (req && res && 'writeHead' in res) onUpstreamError(state, err, req, res as ServerResponse);
    });
  };
  const middleware = createProxyMiddleware({
    router: (req, _res, options) => {
      const ctx = contextOf(req)!;
      options.agent = ctx.route.stream ? ctx.backend.streamAgent : ctx.backend.agent;
      if (ctx.tap) options.buffer = ctx.tap as never;
      return ctx.backend.url;
    },
    changeOrigin: true,
    xfwd: false,
    selfHandleResponse: true,
    ejectPlugins: true,
    plugins: [plugin],
  });
  return (req, res) => middleware(req, res);
}

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
  ctx.proxyReq = null;
  ctx.sentAt = 0;
  ctx.timedOut = false;
  ctx.headTimeoutMs = ctx.route.timeoutMs ?? ctx.backend.config.timeoutMs;
  void state.forward(req, res);
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

function onProxyReq(proxyReq: ClientRequest, req: IncomingMessage): void {
  const ctx = contextOf(req)!;
  ctx.proxyReq = proxyReq;
  ctx.reusedSocket = proxyReq.reusedSocket;
  if (ctx.tooLarge) {
    proxyReq.destroy();
    return;
  }
  // a body-less request is sent with its head; one with a body once it is written (the sweep looks)
  ctx.sentAt = ctx.bodyLength === 0 ? Date.now() : 0;
  ctx.backend.waiting.add(ctx);
}

function onProxyRes(
  state: PipelineState,
  proxyRes: IncomingMessage,
  req: IncomingMessage,
  res: ServerResponse,
): void {
  const ctx = contextOf(req)!;
  const backend = ctx.backend;
  backend.waiting.delete(ctx);
  const now = Date.now();
  backend.lastProgress = now;
  backend.outlier.success();
  const status = proxyRes.statusCode ?? 502;
  ctx.breaker.record(status < 500, now);
  if (status >= 500 && moveToFallback(state, res, ctx, '5xx')) {
    proxyRes.resume();
    dispatch(state, req, res, ctx);
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
  const proxyReq = ctx.proxyReq;
  if (idle > 0 && proxyReq) {
    proxyReq.setTimeout(idle, () => {
      ctx.timedOut = true;
      proxyReq.destroy(Object.assign(new Error(`upstream idle for ${idle} ms`), { code: 'ETIMEDOUT' }));
    });
  }
  ctx.shadow?.capturePrimary(proxyRes);
  proxyRes.pipe(res);
}

function onUpstreamError(state: PipelineState, err: Error, req: IncomingMessage, res: ServerResponse): void {
  const ctx = contextOf(req);
  if (!ctx) {
    if (!res.headersSent) sendError(res, 502, 'BAD_GATEWAY', 'upstream error');
    return;
  }
  const backend = ctx.backend;
  backend.waiting.delete(ctx);
  if (ctx.tooLarge) {
    tooLarge(res, ctx);
    return;
  }
  // the client went away: not the backend's fault
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
    ctx.reusedSocket &&
    !ctx.retried &&
    !res.headersSent &&
    !state.closing &&
    mayFallback(ctx.method, ctx.bodyLength)
  ) {
    ctx.retried = true;
    ctx.proxyReq = null;
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
