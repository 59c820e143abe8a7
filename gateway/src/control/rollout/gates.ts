import { wilson } from '../../shadow/stats.ts';
import { bucketUpperMs, LATENCY_BUCKETS } from '../../stats.ts';
import type { Comparison, RolloutConfig, Step } from './schema.ts';

/**
 * The gates of one check, evaluated on the numbers of ONE window, the same for the old and the
 * new backend, summed over every gateway instance. Pure functions: no clock, no I/O.
 *
 * A gate is `pass`, `fail` or `no-data`; a check fails when any gate fails, waits when any has
 * no data (a step never passes on no data), and passes only when every gate passes.
 */

/** Answers of one backend in a window: count, 5xx (and failed attempts) and a latency histogram. */
export interface BackendNumbers {
  requests: number;
  errors: number;
  /** Counts per latency bucket (the buckets of stats.ts); may be shorter when the tail is empty. */
  hist: number[];
}

/** Mirrored answers in a window: compared (matched + mismatched) and the ones not compared. */
export interface ShadowNumbers {
  compared: number;
  mismatched: number;
  notCompared: number;
}

export interface WindowNumbers {
  old: BackendNumbers;
  new: BackendNumbers;
  shadow: ShadowNumbers;
}

/** `no-data`: nothing to judge yet; `inconclusive`: within the limit, but not yet proven to be. */
export type GateStatus = 'pass' | 'fail' | 'no-data' | 'inconclusive';

export interface GateResult {
  /** `traffic`, `successRate`, `p99`, `shadowMismatch` or `custom:<name>`. */
  gate: string;
  status: GateStatus;
  value: number | null;
  /** The gate passes when `value op threshold`. */
  op: Comparison;
  threshold: number | null;
  unit: '%' | 'ms' | 'requests' | '';
  /** What the value was computed from, for people reading the check. */
  detail?: string;
}

export type Verdict = 'pass' | 'fail' | 'wait';

/** A custom gate's reading: the summed series value, or why there is none. */
export interface CustomReading {
  value: number | null;
  error?: string;
}

export function emptyBackend(): BackendNumbers {
  return { requests: 0, errors: 0, hist: [] };
}

export function emptyWindow(): WindowNumbers {
  return { old: emptyBackend(), new: emptyBackend(), shadow: { compared: 0, mismatched: 0, notCompared: 0 } };
}

export function addBackend(a: BackendNumbers, b: BackendNumbers): BackendNumbers {
  const hist = new Array<number>(Math.max(a.hist.length, b.hist.length)).fill(0);
  for (let i = 0; i < hist.length; i++) hist[i] = (a.hist[i] ?? 0) + (b.hist[i] ?? 0);
  return { requests: a.requests + b.requests, errors: a.errors + b.errors, hist: trimHist(hist) };
}

export function addWindow(a: WindowNumbers, b: WindowNumbers): WindowNumbers {
  return {
    old: addBackend(a.old, b.old),
    new: addBackend(a.new, b.new),
    shadow: {
      compared: a.shadow.compared + b.shadow.compared,
      mismatched: a.shadow.mismatched + b.shadow.mismatched,
      notCompared: a.shadow.notCompared + b.shadow.notCompared,
    },
  };
}

export function trimHist(hist: number[]): number[] {
  let end = hist.length;
  while (end > 0 && !hist[end - 1]) end--;
  return end === hist.length ? hist : hist.slice(0, end);
}

/**
 * The latency under which `q` of the timed answers fell (upper bound of its histogram bucket,
 * about 20% wide); null without timed answers. Failed attempts carry no time and are not in it.
 */
export function quantileMs(hist: number[], q: number): number | null {
  let total = 0;
  for (const c of hist) total += c;
  if (total === 0) return null;
  const rank = Math.ceil(total * q);
  let acc = 0;
  for (let i = 0; i < hist.length && i < LATENCY_BUCKETS; i++) {
    acc += hist[i]!;
    if (acc >= rank) return round(bucketUpperMs(i));
  }
  return round(bucketUpperMs(LATENCY_BUCKETS - 1));
}

export function compare(value: number, op: Comparison, threshold: number): boolean {
  switch (op) {
    case '<':
      return value < threshold;
    case '<=':
      return value <= threshold;
    case '>':
      return value > threshold;
    case '>=':
      return value >= threshold;
  }
}

function round(n: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/** Too little traffic is never a failure: the check waits for more. */
function traffic(n: number, min: number, detail: string): GateResult {
  return {
    gate: 'traffic',
    status: n >= min ? 'pass' : 'no-data',
    value: n,
    op: '>=',
    threshold: min,
    unit: 'requests',
    detail,
  };
}

function result(
  gate: string,
  value: number | null,
  op: Comparison,
  threshold: number | null,
  unit: GateResult['unit'],
  detail?: string,
): GateResult {
  const status: GateStatus =
    value === null || threshold === null ? 'no-data' : compare(value, op, threshold) ? 'pass' : 'fail';
  return { gate, status, value, op, threshold, unit, ...(detail ? { detail } : {}) };
}

/** Evaluates every gate that applies to `step` on the numbers of one window. */
export function evaluateGates(
  config: RolloutConfig,
  step: Step,
  w: WindowNumbers,
  custom: Record<string, CustomReading> = {},
): { verdict: Verdict; gates: GateResult[] } {
  const gates: GateResult[] = [];
  const min = config.minRequests;
  if (step === 'shadow') {
    const n = w.shadow.compared;
    gates.push(traffic(n, min, `compared answers (${w.shadow.notCompared} not compared)`));
    const enough = n >= min;
    const interval = enough ? wilson(w.shadow.mismatched, n) : null;
    const limit = config.gates.shadowMismatch;
    const gate = result(
      'shadowMismatch',
      interval?.upper == null ? null : round(interval.upper * 100, 3),
      '<=',
      limit,
      '%',
      `${w.shadow.mismatched} of ${n} compared answers differ; upper end of the 95% Wilson interval`,
    );
    // Over the limit at the upper end only: the observed rate is fine but too few answers were
    // compared to prove it. More answers narrow the interval, so the step waits for them; it
    // fails once the observed rate itself is over the limit.
    if (gate.status === 'fail' && interval?.rate != null && interval.rate * 100 <= limit) {
      gate.status = 'inconclusive';
      gate.detail = `${gate.detail}; observed ${round(interval.rate * 100, 3)}%, waiting for more compared answers`;
    }
    gates.push(gate);
  } else {
    const n = w.new.requests;
    gates.push(traffic(n, min, 'answers from the new backend'));
    const enough = n >= min;
    gates.push(
      result(
        'successRate',
        enough ? round(((n - w.new.errors) / n) * 100, 3) : null,
        '>=',
        config.gates.successRate,
        '%',
        `${w.new.errors} of ${n} answers were 5xx or failed attempts`,
      ),
    );
    const p99 = config.gates.p99;
    if (p99) {
      const newP99 = enough ? quantileMs(w.new.hist, 0.99) : null;
      const oldP99 = w.old.requests >= min ? quantileMs(w.old.hist, 0.99) : null;
      let threshold: number | null = p99.maxMs ?? null;
      let detail = p99.maxMs !== undefined ? `ceiling ${p99.maxMs} ms` : '';
      if (p99.factor !== undefined) {
        if (oldP99 === null) threshold = null;
        else {
          const relative = round(oldP99 * p99.factor);
          threshold = threshold === null ? relative : Math.min(threshold, relative);
        }
        detail = `${p99.factor} × old p99 (${oldP99 === null ? `old backend has < ${min} answers` : `${oldP99} ms`})${detail ? `, ${detail}` : ''}`;
      }
      gates.push(result('p99', newP99, '<=', threshold, 'ms', detail));
    }
  }
  for (const c of config.gates.custom) {
    const reading = custom[c.name];
    gates.push(
      result(
        `custom:${c.name}`,
        reading?.value ?? null,
        c.op,
        c.threshold,
        '',
        reading?.error ?? `${c.metric} at ${c.url}`,
      ),
    );
  }
  const verdict: Verdict = gates.some((g) => g.status === 'fail')
    ? 'fail'
    : gates.some((g) => g.status === 'no-data' || g.status === 'inconclusive')
      ? 'wait'
      : 'pass';
  return { verdict, gates };
}
