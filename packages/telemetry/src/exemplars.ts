import { context, type Span, TraceFlags, trace } from '@opentelemetry/api';
import { isTracing } from './state.ts';

/**
 * Exemplars: a latency observation carries the trace id of the request it measured, so a p99
 * bucket in Grafana links to a trace. Only sampled traces are named (an unsampled id leads
 * nowhere). Label name `trace_id`, as Grafana's exemplar links expect by default.
 */
export function exemplarLabels(
  span: Span | undefined = trace.getSpan(context.active()),
): { trace_id: string } | undefined {
  if (!isTracing() || !span) return undefined;
  const sc = span.spanContext();
  return (sc.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED ? { trace_id: sc.traceId } : undefined;
}

/** The trace id of a sampled span, else undefined. */
export function traceIdOf(span: Span | undefined): string | undefined {
  return exemplarLabels(span)?.trace_id;
}
