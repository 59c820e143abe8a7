/**
 * Recent-window numbers per route and backend for the admin stats endpoint (and the control
 * page that polls it): one slot per second for the last 60 s, each with a request count, an
 * error count and a log-scale latency histogram, so p50/p99 over any window up to 60 s cost a
 * merge of small integer arrays. Recording is a few array increments.
 */
export const MAX_WINDOW_S = 60;
const BASE_MS = 0.05;
const FACTOR = 1.2;
const LOG_FACTOR = Math.log(FACTOR);
export const LATENCY_BUCKETS = 82; // up to ~160 s
const STRIDE = 2 + LATENCY_BUCKETS;

/**
 * A window as asked for (a query parameter: anything) → whole seconds in 1..60; not a finite
 * number → the default. Every reader clamps through here: a window of 1e9 seconds would be a
 * loop of 1e9 turns, one of Infinity a loop without end, on the event loop that serves traffic.
 */
export function windowSeconds(asked: number, fallback = 10): number {
  if (!Number.isFinite(asked)) return fallback;
  return Math.max(1, Math.min(MAX_WINDOW_S, Math.floor(asked)));
}

export function bucketIndex(ms: number): number {
  if (ms <= BASE_MS) return 0;
  const i = Math.ceil(Math.log(ms / BASE_MS) / LOG_FACTOR);
  return i >= LATENCY_BUCKETS ? LATENCY_BUCKETS - 1 : i;
}

export function bucketUpperMs(i: number): number {
  return BASE_MS * FACTOR ** i;
}

export interface RawWindow {
  /** Per second, oldest first: [epochSecond, requests, errors, ...histogram]. */
  seconds: number[][];
}

export interface WindowNumbers {
  requests: number;
  errors: number;
  rps: number;
  errorRate: number;
  p50Ms: number | null;
  p99Ms: number | null;
  /** Requests per second, oldest first, one entry per second of the window. */
  series: number[];
}

export class WindowStats {
  private readonly data = new Int32Array(MAX_WINDOW_S * STRIDE);
  private readonly epochs = new Float64Array(MAX_WINDOW_S).fill(-1);

  record(ms: number, error: boolean, now = Date.now()): void {
    const sec = Math.floor(now / 1000);
    const slot = sec % MAX_WINDOW_S;
    const base = slot * STRIDE;
    if (this.epochs[slot] !== sec) {
      this.epochs[slot] = sec;
      this.data.fill(0, base, base + STRIDE);
    }
    this.data[base]!++;
    if (error) this.data[base + 1]!++;
    this.data[base + 2 + bucketIndex(ms)]!++;
  }

  /** The raw seconds inside the window, mergeable across processes (cluster workers). */
  raw(windowS: number, now = Date.now()): RawWindow {
    const sec = Math.floor(now / 1000);
    const seconds: number[][] = [];
    for (let s = sec - windowSeconds(windowS) + 1; s <= sec; s++) {
      const slot = ((s % MAX_WINDOW_S) + MAX_WINDOW_S) % MAX_WINDOW_S;
      if (this.epochs[slot] !== s) continue;
      const base = slot * STRIDE;
      seconds.push([s, ...this.data.subarray(base, base + STRIDE)]);
    }
    return { seconds };
  }
}

export function summarize(raws: RawWindow[], windowS: number, now = Date.now()): WindowNumbers {
  const sec = Math.floor(now / 1000);
  const first = sec - windowS + 1;
  const series = new Array<number>(windowS).fill(0);
  const hist = new Array<number>(LATENCY_BUCKETS).fill(0);
  let requests = 0;
  let errors = 0;
  for (const raw of raws) {
    for (const row of raw.seconds) {
      const s = row[0]!;
      if (s < first || s > sec) continue;
      series[s - first]! += row[1]!;
      requests += row[1]!;
      errors += row[2]!;
      for (let i = 0; i < LATENCY_BUCKETS; i++) hist[i]! += row[3 + i]!;
    }
  }
  const pct = (p: number): number | null => {
    if (requests === 0) return null;
    const rank = Math.ceil(requests * p);
    let acc = 0;
    for (let i = 0; i < LATENCY_BUCKETS; i++) {
      acc += hist[i]!;
      if (acc >= rank) return Math.round(bucketUpperMs(i) * 100) / 100;
    }
    return Math.round(bucketUpperMs(LATENCY_BUCKETS - 1) * 100) / 100;
  };
  return {
    requests,
    errors,
    rps: Math.round((requests / windowS) * 100) / 100,
    errorRate: requests === 0 ? 0 : Math.round((errors / requests) * 10_000) / 10_000,
    p50Ms: pct(0.5),
    p99Ms: pct(0.99),
    series,
  };
}
