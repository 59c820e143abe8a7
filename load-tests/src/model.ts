// The shape of results.json (schema `pilot-load-results/2`): what `pnpm compare` writes, what
// k6's handleSummary writes (k6/lib/results.js builds the same objects), and what the report
// (html.ts, report.ts) and `--baseline` read. Types only: every module that reads or writes
// results depends on this file, and this file on none of them.
import type { CapacityVerdict, PhaseResult, SoakVerdict, SpikeVerdict } from '../k6/lib/analysis.js';
import type { Target } from './catalogue.ts';
import type { RunCost } from './cost.ts';
import type { LatencySummary } from './histogram.ts';

export type { CapacityVerdict, PhaseResult, SoakVerdict, SpikeVerdict };

export const RESULTS_SCHEMA = 'pilot-load-results/2';

export type Kind = 'fixed' | 'capacity' | 'soak' | 'spike';
export type Engine = 'node' | 'k6';
export type Mode = 'full' | 'smoke';

export interface StepResult {
  requests: number;
  errors: number;
  latency: LatencySummary;
}

export interface ThresholdVerdict {
  limit: number;
  actual: number;
  ok: boolean;
}

/** One timeline bucket (`seconds` wide, usually 1) from the run's first scheduled arrival. */
export interface TimelinePoint {
  second: number;
  seconds: number;
  /** Iterations the schedule offered in the bucket (by scheduled start). */
  offered: number;
  /** Iterations started in the bucket (null: the engine does not say, k6). */
  started: number | null;
  /** Iterations that finished in the bucket (all their steps answered). */
  completed: number;
  /** Arrivals dropped in the bucket for want of a free virtual user (null: unknown, k6). */
  dropped: number | null;
  /** Requests answered in the bucket, errors among them, their p50 and p99 (ms). */
  requests: number;
  errors: number;
  p50: number;
  p99: number;
}

export interface RunResult {
  scenario: string;
  kind: Kind;
  /** The fixed scenario a kind scenario is built on. */
  of?: string;
  route: string;
  target: Target;
  engine: Engine;
  baseUrl: string;
  mode: 'full' | 'smoke' | 'warmup';
  /** Repeat round (1-based); several rounds measure the run-to-run noise. */
  round: number;
  executor: string;
  startedAt: string;
  /** From the first scheduled arrival to the last completion, ms. */
  elapsedMs: number;
  /** Iterations the schedule offered, started, finished, dropped (no free VU), interrupted (hard stop). */
  iterations: { offered: number; started: number; completed: number; dropped: number; interrupted: number };
  requests: number;
  /** Failed requests + dropped + interrupted iterations. */
  errors: number;
  errorRate: number;
  /** Completed requests per second over elapsedMs. */
  throughput: number;
  /** Offered iterations per second over the scheduled duration. */
  offeredRate: number;
  statusCodes: Record<string, number>;
  errorKinds: Record<string, number>;
  errorSamples: string[];
  latency: LatencySummary;
  /** [percentile, ms] pairs for charts. */
  curve: Array<[number, number]>;
  /** Compressed HdrHistogram (microseconds) of every request latency ('' when the engine has none). */
  histogram: string;
  steps: Record<string, StepResult>;
  timeline: TimelinePoint[];
  /** How late the generator started iterations (ms): high values mean the load machine was the bottleneck. */
  generatorLag: { p99: number; max: number };
  /** Values of the gateway's backend header (BACKEND_HEADERS), when present. */
  servedBy: Record<string, number>;
  sse?: { subscriptions: number; events: number };
  thresholds: { p95: ThresholdVerdict; p99: ThresholdVerdict; errorRate: ThresholdVerdict; ok: boolean };
  /** Filled in by compare from the services' /metrics (null: not exposed). */
  upstreamCalls: number | null;
  /** Per phase of a kind run: capacity steps, spike before/spike/after, soak windows. */
  phases?: PhaseResult[];
  capacity?: CapacityVerdict;
  soak?: SoakVerdict;
  spike?: SpikeVerdict;
  cost: RunCost | null;
  /** Set when the engine could not check what the scenario expects (k6 and held SSE streams). */
  unverifiable?: string;
}

/** A metric compared across targets, rounds and baselines. */
export interface MetricDef {
  key: MetricKey;
  label: string;
  unit: string;
  better: 'higher' | 'lower';
}

export type MetricKey =
  | 'capacity'
  | 'p50'
  | 'p99'
  | 'errorRate'
  | 'cpuPer1k'
  | 'pathCpuPer1k'
  | 'peakRssMb'
  | 'recoverySeconds'
  | 'rssGrowthMb'
  | 'p99Drift';

/** One metric of one scenario and target over the rounds of a run. */
export interface MetricSummary {
  /** Median over rounds. */
  value: number | null;
  values: Array<number | null>;
  /** Run-to-run spread: (max − min) ÷ median over the rounds, null with fewer than 2 rounds. */
  noise: number | null;
}

export interface ScenarioSummary {
  scenario: string;
  kind: Kind;
  target: Target;
  rounds: number;
  metrics: Partial<Record<MetricKey, MetricSummary>>;
}

/** A ratio that says what it divides: `numerator ÷ denominator` of one metric. */
export interface Ratio {
  scenario: string;
  metric: MetricKey;
  numerator: Target;
  denominator: Target;
  /** Why this denominator (gateway ÷ direct: the backend the gateway named most). */
  basis?: string;
  value: number | null;
  /** Why the value is a bound rather than a ratio (a capacity that never broke, or broke on the generator). */
  note?: string;
}

export interface BaselineRow {
  scenario: string;
  target: Target;
  metric: MetricKey;
  baseline: number | null;
  current: number | null;
  /** (current − baseline) ÷ baseline, in percent. */
  changePct: number | null;
  /** The larger run-to-run noise of the two runs, in percent (null: unknown, one round each). */
  noisePct: number | null;
  /** |change| beyond the noise: better, worse, or within noise / unknown. */
  verdict: 'better' | 'worse' | 'within noise' | 'noise unknown' | '-';
}

export interface BaselineComparison {
  file: string;
  startedAt: string;
  engine: Engine;
  rows: BaselineRow[];
  /** Scenario/target pairs in one run and not the other. */
  unmatched: string[];
}

export interface CompareReport {
  schema: typeof RESULTS_SCHEMA;
  tool: string;
  engine: Engine;
  mode: Mode;
  /** Which kinds of scenario ran (fixed, capacity, soak, spike). */
  kinds: Kind[];
  startedAt: string;
  finishedAt: string;
  catalogue: { path: string; sha256: string };
  machine: { node: string; platform: string; cpus: number };
  targets: Partial<Record<Target, string>>;
  stackSource: string;
  upstreamMetric: string;
  rounds: number;
  runs: RunResult[];
  summaries: ScenarioSummary[];
  ratios: Ratio[];
  baseline?: BaselineComparison;
  notes: string[];
}
