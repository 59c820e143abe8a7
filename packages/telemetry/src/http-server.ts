import diagnostics from 'node:diagnostics_channel';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import {
  type Context,
  type Span,
  SpanKind,
  SpanStatusCode,
  TraceFlags,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import type { TracingConfig } from './config.ts';
import { incomingContext } from './propagation.ts';

/**
 * Server spans for the apps' HTTP servers, from diagnostics channels instead of module
 * patching: Node publishes `http.server.request.start` just before it emits 'request', and
 * Fastify publishes `tracing:fastify.request.handler:start` with the matched route. No loader
 * hook, nothing wrapped on the hot path; Express's route pattern is read from `req.route` when
 * the response closes (the same place the apps' metrics read it).
 *
 * The span's context becomes the active one for the rest of the 'request' emit (everything the
 * frameworks run synchronously and schedule from there), and a request with a body has its
 * emitter bound to it, so body parsing callbacks keep it too.
 */
const SPAN = Symbol.for('pilot.telemetry.serverSpan');
const ROUTE = Symbol.for('pilot.telemetry.route');

type TracedRequest = IncomingMessage & {
  [SPAN]?: Span;
  [ROUTE]?: string;
  route?: { path?: unknown };
  baseUrl?: string;
};

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

/** The server span of a request, if it has one. */
export function serverSpanOf(req: IncomingMessage): Span | undefined {
  return (req as TracedRequest)[SPAN];
}

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

function routeOf(req: TracedRequest): string | undefined {
  const fastify = req[ROUTE];
  if (fastify !== undefined) return fastify;
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
    request[SPAN] = span;
    const ctx = trace.setSpan(parent, span);
    enter(ctx);
    if (hasBody(request)) bind(ctx, request);
    if (!span.isRecording()) return;
    span.setAttributes({ 'http.request.method': method, 'url.path': path, 'url.scheme': 'http' });
    response.once('close', () => {
      const route = routeOf(request);
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

  const onFastifyHandler = (message: unknown) => {
    const { request, route } = message as {
      request: { raw: TracedRequest };
      route?: { url?: string };
    };
    if (route?.url !== undefined) request.raw[ROUTE] = route.url;
  };

  diagnostics.subscribe('http.server.request.start', onStart);
  diagnostics.subscribe('tracing:fastify.request.handler:start', onFastifyHandler);
  return () => {
    diagnostics.unsubscribe('http.server.request.start', onStart);
    diagnostics.unsubscribe('tracing:fastify.request.handler:start', onFastifyHandler);
  };
}
