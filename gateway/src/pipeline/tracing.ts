import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import {
  incomingContext,
  injectHeaders,
  isSampledRoot,
  isTracing,
  newRootTraceparent,
  primeRoot,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
  traceIdOf,
  tracingIncoming,
} from '@pilot/telemetry';
import type { ShadowEvent } from '../shadow/mirror.ts';
import type { CompiledRoute } from '../table.ts';

/**
 * The gateway's spans (manual, through @opentelemetry/api: cheaper than instrumenting
 * node:http, and the only place that knows the route, the choice and the fallback). With
 * tracing off, traceRequest returns undefined after one boolean read and the client's
 * traceparent goes upstream untouched.
 *
 * One SERVER span per request, started once the route and backend are chosen and ended when
 * the response closes (by record, the pipeline's last step: a second 'close' listener on the
 * sampled 1 % only would give their responses another shape of listener list); its context
 * replaces the client's `traceparent` towards the backend, so the app's span is its child. A request that brings no trace and is not sampled (99 in 100
 * at 1 %) gets no span: a new trace's `traceparent`, decided beforehand (newRootTraceparent),
 * goes to the backend, and the SDK is not asked (it cost ~6 k instructions per request for a
 * span nobody records; telemetry README). A client's context is continued or restarted as
 * TRACING_INCOMING says (`continue` by default here: its trace id, our sampling decision).
 *
 * A mirrored request is its own trace (a root span linked to the served one, sampled with it),
 * and carries its verdict: match, mismatch (with the differences), not_compared (why), dropped.
 */
const tracer = trace.getTracer('@pilot/gateway');

/** What the span reads of the gateway's per-request state when the response closes. */
export interface TracedRequest {
  route: CompiledRoute;
  backend: { name: string };
  requestId: string;
  fallbackFrom: string | null;
  fallbackReason: string | null;
  errorKind: string | null;
}

export interface RequestTrace {
  /** The trace id when sampled (for exemplars). */
  readonly traceId: string | undefined;
  /**
   * Starts the shadow trace and returns the mirror's headers: a copy of `headers` with the
   * shadow span's traceparent. `verdict` ends it.
   */
  shadow(headers: IncomingHttpHeaders, backend: string): ShadowTrace;
  /** The response has closed: the span takes the outcome and ends. */
  close(res: ServerResponse): void;
}

export interface ShadowTrace {
  headers: IncomingHttpHeaders;
  verdict(event: ShadowEvent): void;
}

export function traceRequest(
  req: IncomingMessage,
  ctx: TracedRequest,
  choice: { backend: string; key?: string; setCookie?: string },
): RequestTrace | undefined {
  if (!isTracing()) return undefined;
  const headers = req.headers;
  // a new trace: decided before any span, and without one when not sampled
  const root = headers.traceparent === undefined ? newRootTraceparent() : undefined;
  if (root !== undefined && !isSampledRoot(root)) {
    sendRoot(headers, root);
    return UNSAMPLED;
  }
  const route = ctx.route;
  const method = req.method ?? 'GET';
  const { parent, links } = incomingContext(headers, tracingIncoming());
  if (root !== undefined) primeRoot(root); // the span started next takes its ids
  // no attributes before the sampling decision: the SDK checks every attribute of a span it
  // then drops
  const span = tracer.startSpan(`${method} ${route.id}`, { kind: SpanKind.SERVER, links }, parent);
  // a new trace's string is the span's own context, as injectHeaders would write it
  if (root === undefined) injectHeaders(span, headers, parent);
  else sendRoot(headers, root);
  if (!span.isRecording()) return UNSAMPLED;
  const path = req.url ?? '/';
  const q = path.indexOf('?');
  span.setAttributes({
    'http.request.method': method,
    'url.path': q === -1 ? path : path.slice(0, q),
    'pilot.route': route.id,
    'pilot.route.mode': route.slots.length > 1 ? 'split' : 'backend',
    'pilot.backend.chosen': choice.backend,
    'pilot.sticky': choice.key !== undefined,
    'pilot.sticky.assigned': choice.setCookie !== undefined,
    'pilot.request_id': ctx.requestId,
  });
  return new RecordedTrace(span, ctx);
}

/** A new trace goes upstream in place of anything the client sent with no `traceparent`. */
function sendRoot(headers: IncomingHttpHeaders, root: string): void {
  headers.traceparent = root;
  if (headers.tracestate !== undefined) delete headers.tracestate;
}

class RecordedTrace implements RequestTrace {
  readonly traceId: string | undefined;
  readonly #span: Span;
  readonly #ctx: TracedRequest;

  constructor(span: Span, ctx: TracedRequest) {
    this.#span = span;
    this.#ctx = ctx;
    this.traceId = traceIdOf(span);
  }

  shadow(headers: IncomingHttpHeaders, backend: string): ShadowTrace {
    const span = this.#span;
    const { route, requestId } = this.#ctx;
    span.setAttribute('pilot.shadow.backend', backend);
    const shadow = tracer.startSpan(`shadow ${route.id}`, {
      kind: SpanKind.CLIENT,
      root: true,
      links: [{ context: span.spanContext(), attributes: { 'pilot.link': 'follows' } }],
      attributes: {
        'pilot.route': route.id,
        'pilot.shadow.backend': backend,
        'pilot.request_id': requestId,
      },
    });
    const copy: IncomingHttpHeaders = { ...headers };
    injectHeaders(shadow, copy);
    return {
      headers: copy,
      verdict(event) {
        shadow.setAttribute('pilot.shadow.verdict', event.result);
        if (event.reason) shadow.setAttribute('pilot.shadow.reason', event.reason);
        if (event.sample) {
          shadow.setAttribute('pilot.shadow.differences', event.sample.differences.length);
          shadow.setAttribute('pilot.shadow.sample', event.sample.id);
        }
        shadow.end();
      },
    };
  }

  close(res: ServerResponse): void {
    const span = this.#span;
    const ctx = this.#ctx;
    const status = res.headersSent ? res.statusCode : 499;
    span.setAttribute('pilot.backend', ctx.backend.name);
    span.setAttribute('http.response.status_code', status);
    if (ctx.fallbackFrom !== null) {
      span.setAttribute('pilot.fallback.from', ctx.fallbackFrom);
      if (ctx.fallbackReason !== null) span.setAttribute('pilot.fallback.reason', ctx.fallbackReason);
    }
    if (ctx.errorKind !== null) span.setAttribute('pilot.error', ctx.errorKind);
    if (!res.writableFinished) span.setAttribute('pilot.client_closed', true);
    if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  }
}

const noVerdict = (): void => {};

/**
 * A request not sampled, without a span of ours (or with the SDK's non-recording one): its
 * mirror is a new trace, not sampled either.
 */
const UNSAMPLED: RequestTrace = {
  traceId: undefined,
  shadow(headers) {
    const copy: IncomingHttpHeaders = { ...headers };
    const root = newRootTraceparent();
    if (root === undefined) delete copy.traceparent;
    else copy.traceparent = `${root.slice(0, -2)}00`;
    return { headers: copy, verdict: noVerdict };
  },
  close() {},
};
