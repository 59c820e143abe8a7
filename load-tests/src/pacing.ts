// Open-model pacing: WHEN each iteration must start, computed up front from the load alone,
// never from how fast the server answered. That is what keeps the runner free of coordinated
// omission: a slow response delays nothing, the next arrival still fires on time, and the
// latency of every request is measured from its scheduled start (see runner.ts).
//
// Semantics follow k6's executors: constant-arrival-rate starts `rate` iterations per second
// evenly spaced from t=0; ramping-arrival-rate interpolates the rate linearly inside each
// stage, and the i-th iteration starts when the integral of the rate reaches i.
import { loadDurationMs, parseDuration } from '../k6/lib/core.js';

export interface ConstantArrival {
  executor: 'constant-arrival-rate';
  rate: number;
  duration: string;
}
export interface RampingArrival {
  executor: 'ramping-arrival-rate';
  startRate: number;
  stages: Array<{ target: number; duration: string }>;
}
export type ArrivalLoad = ConstantArrival | RampingArrival;

/** Start offsets (ms from the run's t0) of every iteration, ascending. */
export function arrivalOffsetsMs(load: ArrivalLoad): number[] {
  if (load.executor === 'constant-arrival-rate') {
    const durationMs = parseDuration(load.duration);
    const intervalMs = 1000 / load.rate;
    const count = Math.ceil((durationMs * load.rate) / 1000 - 1e-9);
    const out = new Array<number>(count);
    for (let i = 0; i < count; i++) out[i] = i * intervalMs;
    return out;
  }
  const out: number[] = [];
  let stageStartS = 0;
  let fromRate = load.startRate;
  let doneBefore = 0; // iterations due (as a real number) before this stage
  let next = 0; // index of the next iteration to place
  for (const stage of load.stages) {
    const d = parseDuration(stage.duration) / 1000;
    const toRate = stage.target;
    const inStage = ((fromRate + toRate) / 2) * d;
    // N(t) = fromRate·t + (toRate − fromRate)·t² / (2d) for 0 ≤ t ≤ d; place iteration `next`
    // at the t where doneBefore + N(t) = next.
    while (next < doneBefore + inStage - 1e-9) {
      const n = next - doneBefore;
      const t = solveStageTime(fromRate, toRate, d, n);
      out.push((stageStartS + t) * 1000);
      next += 1;
    }
    doneBefore += inStage;
    stageStartS += d;
    fromRate = toRate;
  }
  return out;
}

/** Smallest t in [0, d] with r0·t + (r1 − r0)·t²/(2d) = n. */
export function solveStageTime(r0: number, r1: number, d: number, n: number): number {
  if (n <= 0) return 0;
  const a = (r1 - r0) / (2 * d);
  const b = r0;
  if (Math.abs(a) < 1e-12) return n / b;
  const disc = Math.max(0, b * b + 4 * a * n);
  const t = (-b + Math.sqrt(disc)) / (2 * a);
  return Math.min(Math.max(t, 0), d);
}

/** The number of iterations a load offers (what k6 would try to start). */
export function expectedIterations(load: ArrivalLoad): number {
  if (load.executor === 'constant-arrival-rate') {
    return Math.ceil((parseDuration(load.duration) * load.rate) / 1000 - 1e-9);
  }
  let total = 0;
  let from = load.startRate;
  for (const stage of load.stages) {
    total += ((from + stage.target) / 2) * (parseDuration(stage.duration) / 1000);
    from = stage.target;
  }
  return Math.ceil(total - 1e-9);
}

export { loadDurationMs };

/**
 * Fires `onArrival(index, intendedStartMs)` at each offset, measured on `now()` from `t0`.
 * Late timers fire every due arrival at once (catch-up), so the offered rate holds even when
 * the event loop stalls; each arrival still carries its intended time. Resolves when every
 * arrival (before `until`) has fired, or `signal` aborts.
 */
export async function runSchedule(
  offsetsMs: number[],
  t0: number,
  onArrival: (index: number, intendedMs: number) => void,
  options: {
    now?: () => number;
    sleep?: (ms: number) => Promise<void>;
    signal?: AbortSignal;
    /**
     * Checked between arrivals: the offset (ms) from which no arrival fires any more (a capacity
     * run past its breaking step). Arrivals before it still fire, even late.
     */
    until?: () => number;
  } = {},
): Promise<void> {
  const now = options.now ?? (() => performance.now());
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  let i = 0;
  const until = () => options.until?.() ?? Number.POSITIVE_INFINITY;
  while (i < offsetsMs.length) {
    if (options.signal?.aborted || offsetsMs[i]! >= until()) return;
    const current = now();
    while (i < offsetsMs.length && t0 + offsetsMs[i]! <= current && offsetsMs[i]! < until()) {
      onArrival(i, t0 + offsetsMs[i]!);
      i += 1;
    }
    if (i >= offsetsMs.length) return;
    const wait = t0 + offsetsMs[i]! - now();
    await sleep(Math.max(0, Math.min(wait, 50)));
  }
}
