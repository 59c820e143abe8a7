import {
  type Context,
  context,
  createContextKey,
  isSpanContextValid,
  type Link,
  propagation,
  ROOT_CONTEXT,
  type Span,
  TraceFlags,
  trace,
} from '@opentelemetry/api';
import type { IncomingMode } from './config.ts';
import { isTracing } from './state.ts';

/**
 * W3C trace context in and out of HTTP headers (`traceparent`, `tracestate`, `baggage`), through
 * @opentelemetry/api's global propagator: with tracing off that is the no-op propagator, so
 * nothing is read or written.
 */
export type HeaderCarrier = Record<string, string | string[] | undefined>;

export interface Incoming {
  /** The parent for the server span: the caller's context, or the root (`restart`). */
  parent: Context;
  /** `restart`: a link to the caller's span, so the two traces can still be joined. */
  links: Link[];
}

/** The caller's trace context, treated as `mode` says (see TracingConfig.incoming). */
export function incomingContext(headers: HeaderCarrier, mode: IncomingMode): Incoming {
  if (headers.traceparent === undefined) return { parent: ROOT_CONTEXT, links: [] };
  const extracted = propagation.extract(ROOT_CONTEXT, headers);
  if (mode !== 'restart') return { parent: extracted, links: [] };
  const caller = trace.getSpanContext(extracted);
  return {
    parent: ROOT_CONTEXT,
    links:
      caller && isSpanContextValid(caller)
        ? [{ context: caller, attributes: { 'pilot.link': 'caller' } }]
        : [],
  };
}

// @opentelemetry/core's key (Symbol.for of this description): a context inside the SDK's own
// export calls, whose spans must not be propagated
const SUPPRESS_TRACING = createContextKey('OpenTelemetry SDK Context Key SUPPRESS_TRACING');

/**
 * Writes `span`'s context into outgoing headers, replacing whatever the caller sent (a span
 * that is not recorded still propagates its trace id and the "not sampled" decision). With
 * tracing off the headers pass through as they came.
 *
 * `traceparent` and `tracestate` are written here, exactly as W3CTraceContextPropagator writes
 * them (test/propagation.test.ts compares the two on generated contexts): through the global
 * composite propagator the gateway paid ~5 µs CPU per request on the telemetry bench for two
 * strings (a context per call, a setter per field, the baggage propagator's lookups). Baggage,
 * when the context carries any, still goes through the propagator.
 */
export function injectHeaders(span: Span, headers: HeaderCarrier, parent: Context = context.active()): void {
  if (!isTracing()) return;
  if (headers.tracestate !== undefined) delete headers.tracestate;
  const sc = span.spanContext();
  if (parent.getValue(SUPPRESS_TRACING) === true || !isSpanContextValid(sc)) {
    if (headers.traceparent !== undefined) delete headers.traceparent;
    return;
  }
  headers.traceparent = `00-${sc.traceId}-${sc.spanId}-0${Number(sc.traceFlags || TraceFlags.NONE).toString(16)}`;
  if (sc.traceState) headers.tracestate = sc.traceState.serialize();
  if (propagation.getBaggage(parent)) propagation.inject(trace.setSpan(parent, span), headers);
}
