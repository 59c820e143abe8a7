import {
  type Context,
  isSpanContextValid,
  type Link,
  ROOT_CONTEXT,
  SamplingDecision,
  type Span,
  SpanKind,
  TraceFlags,
  type Tracer,
  trace,
} from '@opentelemetry/api';

/**
 * A server span (the gateway's, the apps'), with "not sampled" decided before the SDK is asked
 * when the configuration allows it: with ratio sampling that is 99 requests of 100 at 1 %, and
 * the SDK's path to a non-recording span (ids, the sampler chain with its rest arguments, span
 * metrics, link and attribute copies) was most of the 8 % that tracing at 1 % added to the
 * gateway's instructions per request (callgrind, bench/instructions.ts).
 *
 * Only where the decision is the ratio sampler's on the trace id whatever the caller said: no
 * caller, or a caller whose flag does not count (`continue`, or a plain `traceidratio`), and no
 * links (`restart` and the shadow's `follows` link go through the SDK). The decision is the SDK's
 * own ratio sampler's; a sampled request goes on to the SDK with the same trace id (a root's is
 * primed into the id generator), so both paths sample the same traces
 * (test/server-span.test.ts checks the decision against the provider's sampler).
 */
export interface EarlyDecision {
  /** The configuration's ratio sampler (TraceIdRatioBasedSampler). */
  sampler: { shouldSample(context: Context, traceId: string): { decision: SamplingDecision } };
  /** True when a caller's sampled flag does not decide (see above). */
  ignoresCallerFlag: boolean;
  ids: PrimedIds;
}

/** The provider's id generator, which can be told the next trace id (a root's, decided here). */
export interface PrimedIds {
  generateTraceId(): string;
  generateSpanId(): string;
  prime(traceId: string): void;
}

let early: EarlyDecision | undefined;

/** Set by startSdk (undefined: every server span goes through the SDK). */
export function setEarlyDecision(decision: EarlyDecision | undefined): void {
  early = decision;
}

export function startServerSpan(tracer: Tracer, name: string, parent: Context, links: Link[]): Span {
  const d = early;
  if (d !== undefined && links.length === 0) {
    const caller = trace.getSpanContext(parent);
    const continued = caller !== undefined && isSpanContextValid(caller);
    if (!continued || d.ignoresCallerFlag) {
      const traceId = continued ? caller.traceId : d.ids.generateTraceId();
      if (d.sampler.shouldSample(ROOT_CONTEXT, traceId).decision === SamplingDecision.NOT_RECORD) {
        return trace.wrapSpanContext({
          traceId,
          spanId: d.ids.generateSpanId(),
          traceFlags: TraceFlags.NONE,
          traceState: continued ? caller.traceState : undefined,
        });
      }
      if (!continued) d.ids.prime(traceId);
    }
  }
  return tracer.startSpan(name, { kind: SpanKind.SERVER, links }, parent);
}
