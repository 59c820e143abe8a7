import { ROOT_CONTEXT } from '@opentelemetry/api';
import { TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { traceIdWordsXor } from '../src/hex.ts';
import { BatchedIdGenerator, TraceIdRatioSampler } from '../src/trace-ids.ts';

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
