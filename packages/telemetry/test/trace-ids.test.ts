import { ROOT_CONTEXT, SpanKind } from '@opentelemetry/api';
import {
  InMemorySpanExporter,
  SamplingDecision,
  SimpleSpanProcessor,
  TraceIdRatioBasedSampler,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { traceIdWordsXor } from '../src/hex.ts';
import { SAMPLERS } from '../src/config.ts';
import { buildSampler, rootRatio } from '../src/sdk.ts';
import { isSampledRoot } from '../src/state.ts';
import { BatchedIdGenerator, RootTraceparents, TraceIdRatioSampler } from '../src/trace-ids.ts';

const hex = (length: number, digits = '0123456789abcdef') =>
  fc.string({ unit: fc.constantFrom(...digits), minLength: length, maxLength: length });

describe('TraceIdRatioSampler', () => {
  it("decides as the SDK's TraceIdRatioBasedSampler for generated ratios and trace ids, valid or not", () => {
    const traceId = fc.oneof(
      { weight: 6, arbitrary: hex(32) },
      hex(32, '0123456789ABCDEFabcdef'),
      fc.constant('0'.repeat(32)),
      fc
        .tuple(hex(32), fc.nat(31), fc.integer({ min: 0, max: 0xffff }))
        .map(([id, at, code]) => id.slice(0, at) + String.fromCharCode(code) + id.slice(at + 1)),
      fc.string({ maxLength: 40 }),
    );
    const ratio = fc.oneof(
      fc.double({ min: 0, max: 1, noNaN: true }),
      fc.constantFrom(0, 0.01, 0.5, 1, -1, 2, Number.NaN),
    );
    fc.assert(
      fc.property(ratio, fc.array(traceId, { minLength: 1, maxLength: 20 }), (r, ids) => {
        const ours = new TraceIdRatioSampler(r);
        const theirs = new TraceIdRatioBasedSampler(r);
        expect(ours.toString()).toBe(theirs.toString());
        for (const id of ids) {
          expect(ours.shouldSample(ROOT_CONTEXT, id).decision).toBe(
            theirs.shouldSample(ROOT_CONTEXT, id).decision,
          );
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('BatchedIdGenerator', () => {
  it('makes valid, distinct trace and span ids across many batches', () => {
    const ids = new BatchedIdGenerator();
    const seen = new Set<string>();
    for (let i = 0; i < 20_000; i++) {
      const traceId = ids.generateTraceId();
      const spanId = ids.generateSpanId();
      expect(traceId).toMatch(/^[0-9a-f]{32}$/);
      expect(spanId).toMatch(/^[0-9a-f]{16}$/);
      expect(traceId).not.toBe('0'.repeat(32));
      seen.add(traceId);
      seen.add(spanId);
    }
    expect(seen.size).toBe(40_000);
  });

  it('spreads ratio sampling as the SDK expects of random ids: ~1 % of 20,000 at 0.01', () => {
    const ids = new BatchedIdGenerator();
    const sampler = new TraceIdRatioSampler(0.01);
    let sampled = 0;
    for (let i = 0; i < 20_000; i++) {
      if (sampler.shouldSample(ROOT_CONTEXT, ids.generateTraceId()).decision !== 0) sampled++;
    }
    // binomial(20,000, 0.01): mean 200, sd ~14; 120..280 is beyond 5 sd either way
    expect(sampled).toBeGreaterThan(120);
    expect(sampled).toBeLessThan(280);
  });

  it("carries each trace id's words: the sampler reading them decides as the SDK does, for its own ids and any other", () => {
    const foreign = fc.oneof(hex(32), hex(32, '0123456789ABCDEFabcdef'), fc.string({ maxLength: 40 }));
    // a step: make a trace id (and sometimes a span id, which moves the batch on), or ask about a foreign one
    const step = fc.oneof(
      fc.constantFrom('trace', 'trace+span'),
      foreign.map((id) => ({ id })),
    );
    const ratio = fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), fc.constantFrom(0, 0.01, 0.5, 1));
    fc.assert(
      fc.property(ratio, fc.array(step, { minLength: 1, maxLength: 400 }), (r, steps) => {
        const ids = new BatchedIdGenerator();
        const ours = new TraceIdRatioSampler(r, ids);
        const theirs = new TraceIdRatioBasedSampler(r);
        for (const s of steps) {
          let id: string;
          if (typeof s === 'string') {
            id = ids.generateTraceId();
            expect(ids.lastTraceXor).toBe(traceIdWordsXor(id));
            if (s === 'trace+span') ids.generateSpanId();
          } else {
            id = s.id;
          }
          expect(ours.shouldSample(ROOT_CONTEXT, id).decision).toBe(
            theirs.shouldSample(ROOT_CONTEXT, id).decision,
          );
          // an equal id that is another string, after the generator moved on
          expect(ours.shouldSample(ROOT_CONTEXT, [...id].join('')).decision).toBe(
            theirs.shouldSample(ROOT_CONTEXT, id).decision,
          );
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('RootTraceparents', () => {
  const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-(0[01])$/;
  it("makes valid, distinct traceparents whose flag is the configured sampler's decision for a new trace", () => {
    const ratio = fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), fc.constantFrom(0, 0.01, 0.5, 1));
    fc.assert(
      fc.property(fc.constantFrom(...SAMPLERS), ratio, fc.integer({ min: 1, max: 700 }), (sampler, r, n) => {
        const config = { sampler, ratio: r, incoming: 'continue' as const };
        const roots = new RootTraceparents(rootRatio(config));
        // the SDK-facing sampler as the provider gets it, asked about a root with nothing else
        const sdk = buildSampler(config);
        const seen = new Set<string>();
        for (let i = 0; i < n; i++) {
          const tp = roots.next();
          const m = TRACEPARENT.exec(tp);
          expect(m, tp).not.toBeNull();
          const [, traceId, spanId, flags] = m!;
          expect(traceId).not.toBe('0'.repeat(32));
          expect(spanId).not.toBe('0'.repeat(16));
          const decided = sdk.shouldSample(ROOT_CONTEXT, traceId!, 'GET x', SpanKind.SERVER, {}, []).decision;
          expect(flags === '01').toBe(decided === SamplingDecision.RECORD_AND_SAMPLED);
          expect(isSampledRoot(tp)).toBe(flags === '01');
          seen.add(traceId!);
        }
        expect(seen.size).toBe(n);
      }),
      { numRuns: 60 },
    );
  });

  it('agrees with the SDK’s own TraceIdRatioBasedSampler, and samples ~1 % of 20,000 at 0.01', () => {
    const roots = new RootTraceparents(0.01);
    const theirs = new TraceIdRatioBasedSampler(0.01);
    let sampled = 0;
    for (let i = 0; i < 20_000; i++) {
      const tp = roots.next();
      const decided = theirs.shouldSample(ROOT_CONTEXT, tp.slice(3, 35)).decision;
      expect(isSampledRoot(tp)).toBe(decided === SamplingDecision.RECORD_AND_SAMPLED);
      if (isSampledRoot(tp)) sampled++;
    }
    // binomial(20,000, 0.01): mean 200, sd ~14
    expect(sampled).toBeGreaterThan(120);
    expect(sampled).toBeLessThan(280);
  });

  it('a sampled root primed into the id generator: the SDK’s next root span has its ids and records', () => {
    const ids = new BatchedIdGenerator();
    const config = {
      sampler: 'parentbased_traceidratio' as const,
      ratio: 0.5,
      incoming: 'continue' as const,
    };
    const exporter = new InMemorySpanExporter();
    const provider = new TracerProvider({
      idGenerator: ids,
      sampler: buildSampler(config, ids),
      spanProcessors: [new SimpleSpanProcessor({ exporter })],
    });
    const tracer = provider.getTracer('test');
    const roots = new RootTraceparents(rootRatio(config));
    let primed = 0;
    for (let i = 0; i < 200; i++) {
      const tp = roots.next();
      if (!isSampledRoot(tp)) continue;
      primed++;
      ids.primeRoot(tp);
      const span = tracer.startSpan('GET x', { kind: SpanKind.SERVER }, ROOT_CONTEXT);
      expect(span.isRecording()).toBe(true);
      expect(span.spanContext()).toMatchObject({
        traceId: tp.slice(3, 35),
        spanId: tp.slice(36, 52),
        traceFlags: 1,
      });
      // the priming is spent: the next root is the generator's own again
      const next = tracer.startSpan('GET y', {}, ROOT_CONTEXT);
      expect(next.spanContext().traceId).not.toBe(tp.slice(3, 35));
      expect(next.spanContext().spanId).not.toBe(tp.slice(36, 52));
    }
    expect(primed).toBeGreaterThan(50);
  });
});
