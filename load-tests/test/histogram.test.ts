import { decodeFromCompressedBase64 } from 'hdr-histogram-js';
import { describe, expect, it } from 'vitest';
import { exactPercentile, LatencyHistogram } from '../src/histogram.ts';

describe('percentiles', () => {
  it('nearest-rank percentiles of raw values', () => {
    const values = [5, 1, 4, 2, 3, 6, 7, 8, 9, 10];
    expect(exactPercentile(values, 50)).toBe(5);
    expect(exactPercentile(values, 90)).toBe(9);
    expect(exactPercentile(values, 99)).toBe(10);
    expect(exactPercentile(values, 0)).toBe(1);
    expect(exactPercentile([], 50)).toBe(0);
  });

  it('the HDR histogram stays within 0.1% of the exact value across magnitudes', () => {
    let seed = 42;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const values: number[] = [];
    const h = new LatencyHistogram();
    for (let i = 0; i < 20_000; i++) {
      // log-normal-ish: mostly ~1-5 ms, a tail to seconds
      const v = Math.exp(random() * 4) * (random() < 0.01 ? 400 : 1) * 0.5;
      values.push(v);
      h.record(v);
    }
    for (const p of [50, 90, 95, 99, 99.9]) {
      const exact = exactPercentile(values, p);
      expect(Math.abs(h.percentile(p) - exact) / exact).toBeLessThan(0.001 + 0.001 / exact);
    }
    const s = h.summary();
    expect(s.count).toBe(20_000);
    expect(s.p50).toBeLessThanOrEqual(s.p90);
    expect(s.p99).toBeLessThanOrEqual(s.max);
  });

  it('an empty histogram reports zeros; merged histograms add up; the encoding round-trips', () => {
    expect(new LatencyHistogram().summary()).toMatchObject({ count: 0, p50: 0, p99: 0 });
    const a = new LatencyHistogram();
    const b = new LatencyHistogram();
    for (let i = 1; i <= 100; i++) a.record(i);
    for (let i = 1; i <= 100; i++) b.record(1000 + i);
    a.add(b);
    expect(a.count).toBe(200);
    expect(a.percentile(50)).toBeCloseTo(100, 0);
    expect(a.percentile(100)).toBeCloseTo(1100, -1);
    const decoded = decodeFromCompressedBase64(a.encode());
    expect(decoded.totalCount).toBe(200);
    expect(a.curve().map(([p]) => p)).toContain(99.9);
  });
});
