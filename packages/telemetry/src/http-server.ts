import diagnostics from 'node:diagnostics_channel';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { type Context, SpanKind, SpanStatusCode, TraceFlags, type Tracer, trace } from '@opentelemetry/api';
import type { TracingConfig } from './config.ts';
import { incomingContext } from './propagation.ts';

/**
 * Server spans for the apps' HTTP servers, from Node's `http.server.request.start` diagnostics
 * channel instead of module patching: no loader hook, nothing wrapped on the hot path. The route
 * pattern is read when the response closes: Express's `req.route`, or what the app noted with
 * `noteRoute` (modern's metrics hook, which has the pattern anyway).
 *
 * Fastify's own `tracing:fastify.request.handler` channel would give the pattern without the
 * app's help, but subscribing to it makes Fastify trace every handler (a store, five publishes,
 * a wrapped promise): under callgrind that was ~12 k instructions of a 107 k-instruction cached
 * read, 11 % of the request, paid at any sampling ratio.
 *
 * The span's context becomes the active one for the rest of the 'request' emit (everything the
 * frameworks run synchronously and schedule from there), and a request with a body has its
 * emitter bound to it, so body parsing callbacks keep it too.
 */
type TracedRequest = IncomingMessage & {
  route?: { path?: unknown };
  baseUrl?: string;
};

/**
 * The recorded requests (1 % of them at 1 % sampling) and their route patterns, beside the
 * requests rather than on them: a property that only some requests get gives IncomingMessage a
 * second shape, and every function of Node, Fastify and Express that reads a request then sees
 * two (measured: the sampled 1 % cost a cached read ~10 % more while it was a property).
 */
const recorded = new WeakMap<IncomingMessage, { route: string | undefined }>();

/** Probes and scrapes: one every few seconds per instance, no one wants their traces. */
const UNTRACED = new Set(['/health', '/healthz', '/ready', '/metrics']);

export interface HttpServerInstrumentation {
  tracer: Tracer;
  enter(ctx: Context): void;
  bind(ctx: Context, emitter: IncomingMessage): void;
  config: Pick<TracingConfig, 'incoming' | 'sampler'>;
  /** Which servers get spans (default all: a service runs one); tests put several in a process. */
  traceServer?: (server: Server) => boolean;
}

/**
 * The route pattern of a request that has a server span, for its name and `http.route` (read
 * when the response closes: call it before, e.g. from an onResponse hook).
 */
export function noteRoute(req: IncomingMessage, route: string): void {
  const entry = recorded.get(req);
  if (entry !== undefined) entry.route = route;
}

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

function routeOf(req: TracedRequest, noted: string | undefined): string | undefined {
  if (noted !== undefined) return noted;
  const path = req.route?.path;
  return typeof path === 'string' ? `${req.baseUrl ?? ''}${path}` : undefined;
}

export function instrumentHttpServers(options: HttpServerInstrumentation): () => void {
  const { tracer, enter, bind, config, traceServer } = options;
  const followsUnsampled = config.incoming === 'trust' && config.sampler.startsWith('parentbased_');

  const onStart = (message: unknown) => {
    const { request, response, server } = message as {
      request: TracedRequest;
      response: ServerResponse;
      server: Server;
    };
    if (traceServer && !traceServer(server)) return;
    const url = request.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    if (UNTRACED.has(path)) return;
    const method = request.method ?? 'GET';
    const { parent, links } = incomingContext(request.headers, config.incoming);
    if (followsUnsampled) {
      // behind the gateway at 1 %, 99 of 100 requests arrive "not sampled": the parent-based
      // sampler would only say no again. Its context goes on as it came (downstream calls
      // still carry the decision), without a span of ours: ids, sampler and span object cost
      // more than the rest of the tracing on a cached read.
      const caller = trace.getSpanContext(parent);
      if (caller && (caller.traceFlags & TraceFlags.SAMPLED) === 0) {
        enter(parent);
        if (hasBody(request)) bind(parent, request);
        return;
      }
    }
    // attributes only once sampled: the SDK checks every attribute of a span it then drops
    const span = tracer.startSpan(method, { kind: SpanKind.SERVER, links }, parent);
    const ctx = trace.setSpan(parent, span);
    enter(ctx);
    if (hasBody(request)) bind(ctx, request);
    if (!span.isRecording()) return;
    span.setAttributes({ 'http.request.method': method, 'url.path': path, 'url.scheme': 'http' });
    const entry = { route: undefined as string | undefined };
    recorded.set(request, entry);
    response.once('close', () => {
      const route = routeOf(request, entry.route);
      const status = response.headersSent ? response.statusCode : 499;
      if (route !== undefined) {
        span.setAttribute('http.route', route);
        span.updateName(`${method} ${route}`);
      }
      span.setAttribute('http.response.status_code', status);
      if (!response.writableFinished) span.setAttribute('pilot.client_closed', true);
      if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
  };

  diagnostics.subscribe('http.server.request.start', onStart);
  return () => {
    diagnostics.unsubscribe('http.server.request.start', onStart);
  };
}
