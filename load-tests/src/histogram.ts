// Latency recording on HdrHistogram (hdr-histogram-js): constant memory, 3 significant
// digits at every magnitude, mergeable, and serialisable in the standard compressed format
// so a run can be re-analysed with any HdrHistogram tool.
import { build, encodeIntoCompressedBase64, type Histogram } from 'hdr-histogram-js';

/** Values are recorded in microseconds; this is the longest latency kept (longer ones are clamped). */
const HIGHEST_US = 600_000_000;

export interface LatencySummary {
  count: number;
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  p999: number;
  max: number;
}

/** Percentiles drawn in the report's distribution chart. */
export const CURVE_PERCENTILES = [0, 25, 50, 75, 90, 95, 97.5, 99, 99.5, 99.9, 99.99, 100];

export class LatencyHistogram {
  readonly hdr: Histogram;

  constructor() {
    this.hdr = build({
      bitBucketSize: 'packed',
      lowestDiscernibleValue: 1,
      highestTrackableValue: HIGHEST_US,
      numberOfSignificantValueDigits: 3,
      useWebAssembly: false,
    });
  }

  /** Records one latency in milliseconds (fractional allowed). */
  record(ms: number): void {
    const us = Math.round(ms * 1000);
    this.hdr.recordValue(Math.min(Math.max(us, 1), HIGHEST_US));
  }

  get count(): number {
    return this.hdr.totalCount;
  }

  /** The latency (ms) at a percentile in [0, 100]; 0 when nothing was recorded. */
  percentile(p: number): number {
    if (this.hdr.totalCount === 0) return 0;
    return this.hdr.getValueAtPercentile(p) / 1000;
  }

  add(other: LatencyHistogram): void {
    this.hdr.add(other.hdr);
  }

  summary(): LatencySummary {
    const h = this.hdr;
    if (h.totalCount === 0)
      return { count: 0, min: 0, mean: 0, p50: 0, p90: 0, p95: 0, p99: 0, p999: 0, max: 0 };
    return {
      count: h.totalCount,
      min: round(h.minNonZeroValue / 1000),
      mean: round(h.mean / 1000),
      p50: round(this.percentile(50)),
      p90: round(this.percentile(90)),
      p95: round(this.percentile(95)),
      p99: round(this.percentile(99)),
      p999: round(this.percentile(99.9)),
      max: round(h.maxValue / 1000),
    };
  }

  /** [percentile, ms] pairs for the distribution chart. */
  curve(): Array<[number, number]> {
    return CURVE_PERCENTILES.map((p) => [p, round(this.percentile(p))]);
  }

  /** The standard HdrHistogram compressed base64 form (values in microseconds). */
  encode(): string {
    return encodeIntoCompressedBase64(this.hdr);
  }
}

/**
 * Exact nearest-rank percentile of raw values (the definition HdrHistogram approximates).
 * Used by tests to bound the histogram's error, and for small samples.
 */
export function exactPercentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  if (p <= 0) return sorted[0]!;
  const rank = Math.ceil((p / 100) * sorted.length - 1e-9); // 0.999 × 20000 is 19980.000000000004
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
