// What a run cost: CPU-seconds per 1,000 requests and peak RSS of every service process on the
// path, and the load generator's own CPU, computed from the samples the monitor took
// (monitor.ts). Pure functions over a ResourceSeries, so every number here is testable.
import type { Target } from './catalogue.ts';

export type ProcessName = 'legacy' | 'modern' | 'gateway' | 'cms';
export const PROCESS_NAMES: ProcessName[] = ['legacy', 'modern', 'gateway', 'cms'];

/**
 * The processes a request to each target passes through. The gateway's path includes both
 * backends: it routes to one and may shadow to the other, and both are work the request caused.
 */
export const PATHS: Record<Target, ProcessName[]> = {
  legacy: ['legacy', 'cms'],
  modern: ['modern', 'cms'],
  gateway: ['gateway', 'legacy', 'modern', 'cms'],
};

export interface ProcessInfo {
  name: ProcessName;
  /**
   * proc: /proc of this machine (pids of the listener and its descendants); metrics: the
   * service's process_* metrics on /metrics; in-process: it runs inside the load generator
   * (tests), so its cost cannot be told apart; unavailable: neither.
   */
  source: 'proc' | 'metrics' | 'in-process' | 'unavailable';
  pids?: number[];
  metricsUrl?: string;
  note?: string;
}

export interface ProcessSample {
  cpuSeconds: number | null;
  rssBytes: number | null;
}

export interface ResourceSample {
  /** ms since the run's origin (its first scheduled arrival). */
  t: number;
  /** The generator (this process): cumulative CPU seconds and event-loop active/idle ms. */
  generator: { cpuSeconds: number; eluActive: number; eluIdle: number };
  processes: Partial<Record<ProcessName, ProcessSample>>;
}

export interface ResourceSeries {
  processes: ProcessInfo[];
  samples: ResourceSample[];
}

export interface ProcessCost {
  name: ProcessName;
  source: ProcessInfo['source'];
  pids?: number[];
  cpuSeconds: number | null;
  /** CPU-seconds per 1,000 requests of the run. */
  cpuPer1k: number | null;
  peakRssBytes: number | null;
  note?: string;
}

export interface GeneratorCost {
  cpuSeconds: number;
  /** Average cores the generator used (CPU-seconds ÷ wall seconds). */
  cpuCores: number;
  /** Event-loop utilisation 0..1: the generator is one JavaScript thread, so ~1 is saturated. */
  elu: number;
  /** Its own thread was busy (event loop over GENERATOR_ELU_LIMIT). */
  saturated: boolean;
  /** It started iterations late (p99 lag over GENERATOR_LAG_LIMIT_MS): itself, or a machine too busy to run it. */
  late: boolean;
  why: string | null;
}

export interface RunCost {
  /** Every monitored process, involved or not (a process outside the path should show ~0). */
  processes: ProcessCost[];
  /** The target's own process. */
  own: ProcessName;
  /** The processes of PATHS[target] whose CPU was measured, summed. */
  pathProcesses: ProcessName[];
  pathCpuPer1k: number | null;
  generator: GeneratorCost | null;
}

/** Above this event-loop utilisation the generator is called saturated. */
export const GENERATOR_ELU_LIMIT = 0.9;
/** Above this p99 start lag (ms) the generator is called saturated. */
export const GENERATOR_LAG_LIMIT_MS = 100;

/** A sampled value at time t, interpolated linearly between the samples around it. */
export function valueAt(
  samples: ResourceSample[],
  t: number,
  get: (sample: ResourceSample) => number | null | undefined,
): number | null {
  let before: { t: number; v: number } | null = null;
  let after: { t: number; v: number } | null = null;
  for (const sample of samples) {
    const v = get(sample);
    if (v === null || v === undefined) continue;
    if (sample.t <= t) before = { t: sample.t, v };
    if (sample.t >= t) {
      after = { t: sample.t, v };
      break;
    }
  }
  if (before && after) {
    if (after.t === before.t) return before.v;
    return before.v + ((after.v - before.v) * (t - before.t)) / (after.t - before.t);
  }
  return before?.v ?? after?.v ?? null;
}

/** Growth of a cumulative counter between two times (null when it was not sampled). */
export function deltaBetween(
  samples: ResourceSample[],
  from: number,
  to: number,
  get: (sample: ResourceSample) => number | null | undefined,
): number | null {
  const a = valueAt(samples, from, get);
  const b = valueAt(samples, to, get);
  if (a === null || b === null) return null;
  return Math.max(0, b - a);
}

/** Samples inside [from, to], plus the nearest one on each side (a short window may hold none). */
function samplesIn(samples: ResourceSample[], from: number, to: number): ResourceSample[] {
  const inside = samples.filter((s) => s.t >= from && s.t <= to);
  const before = samples.filter((s) => s.t < from).at(-1);
  const after = samples.find((s) => s.t > to);
  return [...(before ? [before] : []), ...inside, ...(after ? [after] : [])];
}

export function rssBetween(
  samples: ResourceSample[],
  name: ProcessName,
  from: number,
  to: number,
): { avg: number | null; peak: number | null } {
  const values = samplesIn(samples, from, to)
    .map((s) => s.processes[name]?.rssBytes)
    .filter((v): v is number => typeof v === 'number');
  if (values.length === 0) return { avg: null, peak: null };
  return { avg: values.reduce((a, b) => a + b, 0) / values.length, peak: Math.max(...values) };
}

export function generatorBetween(
  samples: ResourceSample[],
  from: number,
  to: number,
): { cpuSeconds: number; cpuCores: number; elu: number } | null {
  const cpu = deltaBetween(samples, from, to, (s) => s.generator.cpuSeconds);
  const active = deltaBetween(samples, from, to, (s) => s.generator.eluActive);
  const idle = deltaBetween(samples, from, to, (s) => s.generator.eluIdle);
  if (cpu === null || active === null || idle === null || to <= from) return null;
  return {
    cpuSeconds: round(cpu, 3),
    cpuCores: round(cpu / ((to - from) / 1000), 2),
    elu: active + idle > 0 ? round(active / (active + idle), 3) : 0,
  };
}

/** The cost of a run of `requests` requests between `from` and `to` (ms since its origin). */
export function runCost(
  series: ResourceSeries,
  target: Target,
  from: number,
  to: number,
  requests: number,
  generatorLagP99: number,
): RunCost {
  const processes: ProcessCost[] = series.processes.map((info) => {
    const base = {
      name: info.name,
      source: info.source,
      ...(info.pids ? { pids: info.pids } : {}),
      ...(info.note ? { note: info.note } : {}),
    };
    if (info.source === 'in-process' || info.source === 'unavailable') {
      return { ...base, cpuSeconds: null, cpuPer1k: null, peakRssBytes: null };
    }
    const cpu = deltaBetween(series.samples, from, to, (s) => s.processes[info.name]?.cpuSeconds);
    const rss = rssBetween(series.samples, info.name, from, to);
    return {
      ...base,
      cpuSeconds: cpu === null ? null : round(cpu, 3),
      cpuPer1k: cpu === null || requests === 0 ? null : round((cpu / requests) * 1000, 4),
      peakRssBytes: rss.peak,
    };
  });
  const path = PATHS[target].filter((name) =>
    processes.some((p) => p.name === name && p.cpuSeconds !== null),
  );
  const pathCpu = processes
    .filter((p) => path.includes(p.name))
    .reduce((sum, p) => sum + (p.cpuSeconds ?? 0), 0);
  const gen = generatorBetween(series.samples, from, to);
  let generator: GeneratorCost | null = null;
  if (gen) {
    const why: string[] = [];
    const saturated = gen.elu > GENERATOR_ELU_LIMIT;
    const late = generatorLagP99 > GENERATOR_LAG_LIMIT_MS;
    if (saturated) why.push(`event loop ${Math.round(gen.elu * 100)}% busy`);
    if (late) why.push(`iterations started up to ${Math.round(generatorLagP99)} ms late (p99)`);
    generator = { ...gen, saturated, late, why: why.length > 0 ? why.join('; ') : null };
  }
  return {
    processes,
    own: target,
    pathProcesses: path,
    pathCpuPer1k: path.length === 0 || requests === 0 ? null : round((pathCpu / requests) * 1000, 4),
    generator,
  };
}

/** Per-process CPU, average and peak RSS inside one phase of a run. */
export function phaseProcesses(
  series: ResourceSeries,
  from: number,
  to: number,
): Record<string, { cpuSeconds: number | null; rssAvgBytes: number | null; rssPeakBytes: number | null }> {
  const out: Record<
    string,
    { cpuSeconds: number | null; rssAvgBytes: number | null; rssPeakBytes: number | null }
  > = {};
  for (const info of series.processes) {
    if (info.source === 'in-process' || info.source === 'unavailable') continue;
    const cpu = deltaBetween(series.samples, from, to, (s) => s.processes[info.name]?.cpuSeconds);
    const rss = rssBetween(series.samples, info.name, from, to);
    out[info.name] = {
      cpuSeconds: cpu === null ? null : round(cpu, 3),
      rssAvgBytes: rss.avg === null ? null : Math.round(rss.avg),
      rssPeakBytes: rss.peak,
    };
  }
  return out;
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
