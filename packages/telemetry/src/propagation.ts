import {
  type Context,
  context,
  isSpanContextValid,
  type Link,
  propagation,
  ROOT_CONTEXT,
  type Span,
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

/**
 * Writes `span`'s context into outgoing headers, replacing whatever the caller sent (a span
 * that is not recorded still propagates its trace id and the "not sampled" decision). With
 * tracing off the headers pass through as they came.
 */
export function injectHeaders(span: Span, headers: HeaderCarrier, parent: Context = context.active()): void {
  if (!isTracing()) return;
  delete headers.traceparent;
  delete headers.tracestate;
  propagation.inject(trace.setSpan(parent, span), headers);
}
