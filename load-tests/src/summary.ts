// From runs to the numbers a migration review reads: the metric definitions, and typed access
// to the summaries and ratios of k6/lib/summarize.js (shared with k6's handleSummary, so both
// engines summarise the same way).
import {
  computeRatios as computeRatiosJs,
  directFor as directForJs,
  KIND_METRICS as KIND_METRICS_JS,
  median,
  metricOf as metricOfJs,
  noiseOf,
  ratio,
  summarize as summarizeJs,
} from '../k6/lib/summarize.js';
import type { Target } from './catalogue.ts';
import type { Kind, MetricDef, MetricKey, Ratio, RunResult, ScenarioSummary } from './model.ts';

export { median, noiseOf, ratio };

/** Every metric compared across targets, rounds and baselines. */
export const METRICS: Record<MetricKey, MetricDef> = {
  capacity: { key: 'capacity', label: 'capacity at SLO', unit: 'it/s', better: 'higher' },
  p50: { key: 'p50', label: 'p50', unit: 'ms', better: 'lower' },
  p99: { key: 'p99', label: 'p99', unit: 'ms', better: 'lower' },
  errorRate: { key: 'errorRate', label: 'error rate', unit: '%', better: 'lower' },
  cpuPer1k: { key: 'cpuPer1k', label: 'CPU-s/1k req (own process)', unit: 'CPU-s', better: 'lower' },
  pathCpuPer1k: { key: 'pathCpuPer1k', label: 'CPU-s/1k req (whole path)', unit: 'CPU-s', better: 'lower' },
  peakRssMb: { key: 'peakRssMb', label: 'peak RSS (own process)', unit: 'MB', better: 'lower' },
  recoverySeconds: { key: 'recoverySeconds', label: 'recovery after spike', unit: 's', better: 'lower' },
  rssGrowthMb: { key: 'rssGrowthMb', label: 'RSS growth over soak (own)', unit: 'MB', better: 'lower' },
  p99Drift: {
    key: 'p99Drift',
    label: 'p99 drift over soak (last ÷ first window)',
    unit: '×',
    better: 'lower',
  },
};

/** Which metrics each kind of scenario is judged on (a fixed run's req/s is its offered rate). */
export const KIND_METRICS = KIND_METRICS_JS as Record<Kind, MetricKey[]>;

export function metricOf(run: RunResult, key: MetricKey): number | null {
  return metricOfJs(run as never, key);
}

export function summarize(runs: RunResult[]): ScenarioSummary[] {
  return summarizeJs(runs as never) as ScenarioSummary[];
}

export function directFor(gateway: RunResult, available: Target[]): { direct: Target; basis: string } | null {
  return directForJs(gateway, available) as { direct: Target; basis: string } | null;
}

export function computeRatios(summaries: ScenarioSummary[], runs: RunResult[]): Ratio[] {
  return computeRatiosJs(summaries, runs as never) as Ratio[];
}

/** "modern ÷ legacy" / "gateway ÷ legacy": what a ratio divides. */
export function ratioLabel(r: Ratio): string {
  return `${r.numerator} ÷ ${r.denominator}`;
}

/** One row per scenario and metric: modern ÷ legacy, and gateway ÷ the backend it routed to. */
export function ratioRows(
  ratios: Ratio[],
): Array<{ scenario: string; metric: Ratio['metric']; modern?: Ratio; gateway?: Ratio }> {
  const rows: Array<{ scenario: string; metric: Ratio['metric']; modern?: Ratio; gateway?: Ratio }> = [];
  for (const r of ratios) {
    let row = rows.find((x) => x.scenario === r.scenario && x.metric === r.metric);
    if (!row) {
      row = { scenario: r.scenario, metric: r.metric };
      rows.push(row);
    }
    if (r.numerator === 'modern') row.modern = r;
    else row.gateway = r;
  }
  return rows;
}
