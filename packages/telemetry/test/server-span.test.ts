import {
  createTraceState,
  ROOT_CONTEXT,
  SamplingDecision,
  SpanKind,
  TraceFlags,
  trace,
} from '@opentelemetry/api';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readTracingConfig } from '../src/config.ts';
import { buildSampler } from '../src/sdk.ts';
import { startServerSpan } from '../src/server-span.ts';
import { startTestTracing } from '../src/testing.ts';

/**
 * startServerSpan decides "not sampled" before the SDK when it can: every decision must be the
 * one the provider's own sampler makes for the span's trace id and parent, for every sampler,
 * ratio and trust mode, with and without a caller.
 */
const hex = (length: number) =>
  fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: length, maxLength: length });
const caller = fc.option(
  fc.record({
    traceId: hex(32),
    spanId: hex(16),
    traceFlags: fc.constantFrom(TraceFlags.NONE, TraceFlags.SAMPLED),
    traceState: fc.option(fc.constantFrom('vendor=abc', 'a=1,b=2'), { nil: undefined }),
  }),
  { nil: undefined },
);

describe('startServerSpan', () => {
  for (const sampler of ['traceidratio', 'parentbased_traceidratio', 'parentbased_always_on'] as const) {
    for (const ratio of sampler === 'parentbased_always_on' ? [undefined] : ['0', '0.01', '0.3', '1']) {
      for (const incoming of ['continue', 'trust'] as const) {
        it(`samples as the SDK does: ${sampler} ${ratio ?? ''}, ${incoming}`, async () => {
          const env = {
            OTEL_TRACES_SAMPLER: sampler,
            ...(ratio === undefined ? {} : { OTEL_TRACES_SAMPLER_ARG: ratio }),
            TRACING_INCOMING: incoming,
          };
          const tracing = startTestTracing({ env, serverSpans: false });
          const oracle = buildSampler(readTracingConfig({ TRACING: 'on', ...env }, { service: 'test' }));
          const tracer = trace.getTracer('test');
          try {
            fc.assert(
              fc.property(caller, (from) => {
                const parent = from
                  ? trace.setSpanContext(ROOT_CONTEXT, {
                      ...from,
                      traceState: from.traceState ? createTraceState(from.traceState) : undefined,
                      isRemote: true,
                    })
                  : ROOT_CONTEXT;
                const span = startServerSpan(tracer, 'GET x', parent, []);
                const sc = span.spanContext();
                const expected = oracle.shouldSample(parent, sc.traceId, 'GET x', SpanKind.SERVER, {}, []);
                expect(span.isRecording()).toBe(expected.decision === SamplingDecision.RECORD_AND_SAMPLED);
                expect((sc.traceFlags & TraceFlags.SAMPLED) !== 0).toBe(span.isRecording());
                if (from) {
                  // a caller's trace is continued either way, with its trace state
                  const sdk = tracer.startSpan('GET x', { kind: SpanKind.SERVER }, parent);
                  expect(sc.traceId).toBe(from.traceId);
                  expect(sdk.isRecording()).toBe(span.isRecording());
                  expect(sc.traceState?.serialize()).toBe(from.traceState);
                  sdk.end();
                } else {
                  expect(sc.traceId).toMatch(/^[0-9a-f]{32}$/);
                }
                expect(sc.spanId).toMatch(/^[0-9a-f]{16}$/);
                span.end();
              }),
              { numRuns: 150 },
            );
            // roots at 0.3: both outcomes happen, so the sampled path (a primed id) is exercised
            if (ratio === '0.3') {
              const roots = Array.from({ length: 200 }, () =>
                startServerSpan(tracer, 'GET x', ROOT_CONTEXT, []),
              );
              const recorded = roots.filter((s) => s.isRecording()).length;
              expect(recorded).toBeGreaterThan(20);
              expect(recorded).toBeLessThan(180);
              for (const s of roots) s.end();
            }
          } finally {
            await tracing.shutdown();
          }
        });
      }
    }
  }
});
