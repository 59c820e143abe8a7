import {
  context,
  createTraceState,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  TraceFlags,
  trace,
} from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { exemplarLabels, incomingContext, injectHeaders } from '../src/index.ts';
import { extractContext } from '../src/propagation.ts';
import { startTestTracing, type TestTracing } from '../src/testing.ts';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER = '00f067aa0ba902b7';
const sampledHeader = { traceparent: `00-${TRACE}-${CALLER}-01`, tracestate: 'vendor=abc' };
const unsampledHeader = { traceparent: `00-${TRACE}-${CALLER}-00` };

let tracing: TestTracing | undefined;
afterEach(async () => {
  await tracing?.shutdown();
  tracing = undefined;
});

function serverSpan(headers: Record<string, string>, mode: 'trust' | 'continue' | 'restart') {
  const { parent, links } = incomingContext(headers, mode);
  return trace.getTracer('t').startSpan('server', { kind: SpanKind.SERVER, links }, parent);
}

describe('incoming trace context', () => {
  it('trust: continues the caller’s trace and honours its sampled flag', () => {
    tracing = startTestTracing({ env: { OTEL_TRACES_SAMPLER: 'parentbased_always_off' } });
    const span = serverSpan(sampledHeader, 'trust');
    expect(span.spanContext().traceId).toBe(TRACE);
    expect(span.isRecording()).toBe(true); // the caller said sampled; our root rule (off) is not asked
    expect(span.spanContext().traceState?.get('vendor')).toBe('abc');
    expect(serverSpan(unsampledHeader, 'trust').isRecording()).toBe(false);
  });

  it('continue: keeps the trace id but samples by our own rule, whatever the caller’s flag says', () => {
    tracing = startTestTracing({
      env: { OTEL_TRACES_SAMPLER: 'parentbased_always_off', TRACING_INCOMING: 'continue' },
    });
    const forced = serverSpan(sampledHeader, 'continue');
    expect(forced.spanContext().traceId).toBe(TRACE);
    expect(forced.isRecording()).toBe(false);
  });

  it('continue with the always-on root samples a caller that said "not sampled"', async () => {
    tracing = startTestTracing({ env: { TRACING_INCOMING: 'continue' } });
    const span = serverSpan(unsampledHeader, 'continue');
    expect(span.isRecording()).toBe(true);
    expect(span.spanContext().traceId).toBe(TRACE);
  });

  it('restart: a new trace linked to the caller’s span', () => {
    tracing = startTestTracing({ env: { TRACING_INCOMING: 'restart' } });
    const span = serverSpan(sampledHeader, 'restart');
    span.end();
    const [done] = tracing.spans();
    expect(done!.spanContext().traceId).not.toBe(TRACE);
    expect(done!.parentSpanContext).toBeUndefined();
    expect(done!.links[0]?.context).toMatchObject({ traceId: TRACE, spanId: CALLER });
  });

  it('no traceparent: a new root trace', () => {
    tracing = startTestTracing();
    const span = serverSpan({}, 'continue');
    expect(span.isRecording()).toBe(true);
    expect(span.spanContext().traceId).not.toBe(TRACE);
  });
});

describe('extracting', () => {
  it('finds what the W3C propagators find, for generated and mangled traceparents, with or without tracestate and baggage', () => {
    tracing = startTestTracing();
    const hexChar = fc.constantFrom(...'0123456789abcdef');
    const hex = (length: number) => fc.string({ unit: hexChar, minLength: length, maxLength: length });
    const canonical = fc
      .tuple(
        fc.constantFrom('00', '01', 'ff', '0A'),
        fc.oneof(hex(32), fc.constant('0'.repeat(32))),
        fc.oneof(hex(16), fc.constant('0'.repeat(16))),
        hex(2),
        fc.constantFrom('', '-extra', ' '),
      )
      .map(([version, traceId, spanId, flags, tail]) => `${version}-${traceId}-${spanId}-${flags}${tail}`);
    // one character replaced, dropped, upper-cased or turned into a look-alike whose low 7 bits
    // are the same (a table indexed by `c & 127` must still refuse it) anywhere
    const mangled = fc
      .tuple(
        canonical,
        fc.nat(),
        fc.constantFrom('drop', 'upper', 'replace', 'high'),
        fc.string({ maxLength: 1 }),
        fc.integer({ min: 1, max: 511 }),
      )
      .map(([value, at, how, char, high]) => {
        const i = at % value.length;
        if (how === 'drop') return value.slice(0, i) + value.slice(i + 1);
        if (how === 'upper') return value.slice(0, i) + value[i]!.toUpperCase() + value.slice(i + 1);
        if (how === 'high')
          return (
            value.slice(0, i) + String.fromCharCode(value.charCodeAt(i) + 128 * high) + value.slice(i + 1)
          );
        return value.slice(0, i) + char + value.slice(i + 1);
      });
    fc.assert(
      fc.property(
        fc.oneof(
          canonical,
          canonical.map((value) => value.toUpperCase()),
          mangled,
          fc.string({ maxLength: 60 }),
        ),
        fc.option(fc.constantFrom('vendor=abc', 'a=1,b=2', '')),
        fc.option(fc.constantFrom('user=alice', 'k=v;meta')),
        (traceparent, tracestate, baggage) => {
          const headers: Record<string, string> = { traceparent };
          if (tracestate !== null) headers.tracestate = tracestate;
          if (baggage !== null) headers.baggage = baggage;
          const ours = extractContext(headers);
          const theirs = propagation.extract(ROOT_CONTEXT, headers);
          expect(trace.getSpanContext(ours)).toEqual(trace.getSpanContext(theirs));
          const entries = (ctx: typeof ours) =>
            propagation
              .getBaggage(ctx)
              ?.getAllEntries()
              .map(([k, e]) => [k, e.value, e.metadata?.toString()]);
          expect(entries(ours)).toEqual(entries(theirs));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('refuses what the propagator refuses on the fast path (version 00, nothing else): any character of a valid header changed to any other', () => {
    tracing = startTestTracing();
    const hex = (length: number) =>
      fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: length, maxLength: length });
    const valid = fc
      .tuple(hex(32), hex(16), hex(2))
      .map(([traceId, spanId, flags]) => `00-${traceId}-${spanId}-${flags}`);
    fc.assert(
      fc.property(valid, fc.nat(), fc.integer({ min: 0, max: 0xffff }), (value, at, code) => {
        const i = at % value.length;
        const headers = { traceparent: value.slice(0, i) + String.fromCharCode(code) + value.slice(i + 1) };
        expect(trace.getSpanContext(extractContext(headers))).toEqual(
          trace.getSpanContext(propagation.extract(ROOT_CONTEXT, headers)),
        );
      }),
      { numRuns: 3000 },
    );
  });

  it('gives a context that acts like the propagator’s: other keys, values set on it, the span deleted', () => {
    tracing = startTestTracing();
    const key = Symbol.for('test key');
    const headers = { traceparent: `00-${TRACE}-${CALLER}-01` };
    for (const ctx of [extractContext(headers), propagation.extract(ROOT_CONTEXT, headers)]) {
      expect(ctx.getValue(key)).toBeUndefined();
      const set = ctx.setValue(key, 'v');
      expect(set.getValue(key)).toBe('v');
      expect(trace.getSpanContext(set)?.spanId).toBe(CALLER);
      expect(ctx.getValue(key)).toBeUndefined(); // contexts are immutable
      expect(trace.getSpan(trace.deleteSpan(ctx))).toBeUndefined();
      expect(trace.getSpan(ctx.deleteValue(key))?.spanContext().traceId).toBe(TRACE);
      expect(context.with(ctx, () => trace.getActiveSpan()?.spanContext().traceFlags)).toBe(
        TraceFlags.SAMPLED,
      );
    }
  });

  it('reads nothing with tracing off', () => {
    expect(extractContext({ traceparent: `00-${TRACE}-${CALLER}-01` })).toBe(ROOT_CONTEXT);
  });
});

describe('outgoing headers', () => {
  it('replace the caller’s traceparent with the span’s own, sampled flag included', () => {
    tracing = startTestTracing({
      env: { OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0' },
    });
    const headers: Record<string, string> = { ...sampledHeader };
    const span = serverSpan(headers, 'trust');
    injectHeaders(span, headers);
    const sc = span.spanContext();
    expect(headers.traceparent).toBe(`00-${sc.traceId}-${sc.spanId}-00`);
    expect(sc.traceFlags & TraceFlags.SAMPLED).toBe(0);
  });

  it('are what the W3C propagators write, for generated span contexts, trace states, baggage and suppression', () => {
    tracing = startTestTracing();
    // valid ids mostly; also upper case (valid to the API), all zeros, a stray character, a wrong length
    const hex = (length: number) =>
      fc.oneof(
        {
          weight: 6,
          arbitrary: fc.string({
            unit: fc.constantFrom(...'0123456789abcdef'),
            minLength: length,
            maxLength: length,
          }),
        },
        fc.string({
          unit: fc.constantFrom(...'0123456789ABCDEFabcdef'),
          minLength: length,
          maxLength: length,
        }),
        fc.constant('0'.repeat(length)),
        fc
          .tuple(fc.nat(length - 1), fc.integer({ min: 0, max: 0xffff }))
          .map(([at, code]) => `${'a'.repeat(at)}${String.fromCharCode(code)}${'b'.repeat(length - at - 1)}`),
        fc.string({
          unit: fc.constantFrom(...'0123456789abcdef'),
          minLength: length - 1,
          maxLength: length + 1,
        }),
      );
    const key = fc.stringMatching(/^[a-z][a-z0-9_*/-]{0,8}$/);
    const value = fc.stringMatching(/^[!-+--<>-~]{1,8}$/);
    fc.assert(
      fc.property(
        hex(32),
        hex(16),
        fc.integer({ min: 0, max: 255 }),
        fc.option(fc.uniqueArray(fc.tuple(key, value), { selector: ([k]) => k, maxLength: 4 })),
        fc.option(fc.dictionary(key, value, { maxKeys: 3 })),
        fc.boolean(),
        fc.constantFrom(undefined, 'stale', 'other=1'),
        (traceId, spanId, traceFlags, state, baggage, suppressed, staleState) => {
          const traceState = state
            ? createTraceState(state.map(([k, v]) => `${k}=${v}`).join(','))
            : undefined;
          const span = trace.wrapSpanContext({ traceId, spanId, traceFlags, traceState });
          let parent = ROOT_CONTEXT;
          if (baggage) {
            const entries = Object.fromEntries(Object.entries(baggage).map(([k, v]) => [k, { value: v }]));
            parent = propagation.setBaggage(parent, propagation.createBaggage(entries));
          }
          if (suppressed) parent = suppressTracing(parent);
          const given = () => ({
            traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
            ...(staleState ? { tracestate: staleState } : {}),
          });
          const ours: Record<string, string | string[] | undefined> = given();
          injectHeaders(span, ours, parent);
          const theirs: Record<string, string | string[] | undefined> = given();
          delete theirs.traceparent;
          delete theirs.tracestate;
          propagation.inject(trace.setSpan(parent, span), theirs);
          expect(ours).toEqual(theirs);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('exemplar labels name sampled traces only', () => {
    tracing = startTestTracing();
    const span = trace.getTracer('t').startSpan('x');
    expect(exemplarLabels(span)).toEqual({ trace_id: span.spanContext().traceId });
    context.with(trace.setSpan(context.active(), span), () => {
      expect(exemplarLabels()).toEqual({ trace_id: span.spanContext().traceId });
    });
    expect(exemplarLabels(trace.wrapSpanContext({ ...span.spanContext(), traceFlags: 0 }))).toBeUndefined();
  });
});
