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
import { hexDigit, isValidId, NON_ZERO, NOT_HEX, scanHex } from './hex.ts';
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
  const extracted = extractContext(headers);
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

/**
 * The caller's context from `headers`, as the global propagator would extract it. A request
 * behind the gateway always carries a `traceparent`: the common one (version 00, lower-case
 * hex, nothing else of ours to read) is parsed here without the propagator's regular expression
 * and its composite pass over both propagators, into a context that holds the caller's span and
 * nothing else (CallerContext). Anything else, a `tracestate` or `baggage` with it included,
 * goes through the propagator (test/propagation.test.ts compares the two on generated headers).
 */
export function extractContext(headers: HeaderCarrier): Context {
  if (!isTracing()) return ROOT_CONTEXT;
  const value = headers.traceparent;
  if (
    typeof value === 'string' &&
    headers.tracestate === undefined &&
    headers.baggage === undefined &&
    value.length === 55 &&
    value.charCodeAt(0) === 48 && // "00": the only version whose format is fixed
    value.charCodeAt(1) === 48 &&
    value.charCodeAt(2) === 45 &&
    value.charCodeAt(35) === 45 &&
    value.charCodeAt(52) === 45 &&
    scanHex(value, 3, 35) === NON_ZERO && // an all-zero trace or span id is invalid
    scanHex(value, 36, 52) === NON_ZERO &&
    scanHex(value, 53, 55) !== NOT_HEX
  ) {
    const traceId = value.slice(3, 35);
    const spanId = value.slice(36, 52);
    const traceFlags = (hexDigit(value.charCodeAt(53)) << 4) | hexDigit(value.charCodeAt(54));
    return new CallerContext(trace.wrapSpanContext({ traceId, spanId, traceFlags, isRemote: true }));
  }
  return propagation.extract(ROOT_CONTEXT, headers);
}

// @opentelemetry/api's key for the active span (createContextKey is Symbol.for of this)
const SPAN_KEY = createContextKey('OpenTelemetry Context Key SPAN');

/**
 * What `trace.setSpan(ROOT_CONTEXT, span)` holds — the caller's span alone — without the Map
 * that every BaseContext copies on creation: one per request behind the gateway, and at 1 %
 * sampling most of them are never asked for anything but their span. Setting a value turns it
 * into an ordinary context.
 */
class CallerContext implements Context {
  readonly #span: Span;
  constructor(span: Span) {
    this.#span = span;
  }
  getValue(key: symbol): unknown {
    return key === SPAN_KEY ? this.#span : undefined;
  }
  setValue(key: symbol, value: unknown): Context {
    return trace.setSpan(ROOT_CONTEXT, this.#span).setValue(key, value);
  }
  deleteValue(key: symbol): Context {
    return key === SPAN_KEY ? ROOT_CONTEXT : this;
  }
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
  if (parent.getValue(SUPPRESS_TRACING) === true) {
    if (headers.traceparent !== undefined) delete headers.traceparent;
    return;
  }
  if (isValidId(sc.traceId, 32) && isValidId(sc.spanId, 16)) {
    headers.traceparent = `00-${sc.traceId}-${sc.spanId}-0${Number(sc.traceFlags || TraceFlags.NONE).toString(16)}`;
    if (sc.traceState) headers.tracestate = sc.traceState.serialize();
  } else if (headers.traceparent !== undefined) {
    delete headers.traceparent;
  }
  // baggage goes out with an invalid span context too, as the propagators write it
  if (propagation.getBaggage(parent)) propagation.inject(trace.setSpan(parent, span), headers);
}
