// `pnpm compare --baseline <results.json>`: every number of this run next to the same number of
// an earlier run (another migration step), with the change in percent, marked better or worse
// only when the change is larger than the noise measured by repeating rounds: the larger
// run-to-run spread of the two runs for that scenario, target and metric. With one round in
// both runs the noise is unknown and nothing is marked: a fixed percentage would pretend to a
// precision this machine does not have.
import { readFileSync } from 'node:fs';
import type { Target } from './catalogue.ts';
import {
  type BaselineComparison,
  type BaselineRow,
  type CompareReport,
  type MetricKey,
  RESULTS_SCHEMA,
  type ScenarioSummary,
} from './model.ts';
import { METRICS } from './summary.ts';

export class BaselineError extends Error {
  readonly code = 'BASELINE_INVALID';
}

/** Reads a results.json (from compare or from k6's handleSummary) to compare against. */
export function loadBaseline(file: string): CompareReport {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new BaselineError(`cannot read baseline ${file}: ${(error as Error).message}`);
  }
  const report = data as Partial<CompareReport>;
  if (report.schema !== RESULTS_SCHEMA || !Array.isArray(report.summaries)) {
    throw new BaselineError(
      `${file} is not a results.json of schema ${RESULTS_SCHEMA} (written by pnpm compare or by k6/run.js's handleSummary)`,
    );
  }
  return report as CompareReport;
}

export function compareWithBaseline(
  current: ScenarioSummary[],
  baseline: CompareReport,
  file: string,
): BaselineComparison {
  const rows: BaselineRow[] = [];
  const unmatched: string[] = [];
  const key = (s: { scenario: string; target: Target }) => `${s.scenario} → ${s.target}`;
  for (const now of current) {
    const then = baseline.summaries.find((b) => b.scenario === now.scenario && b.target === now.target);
    if (!then) {
      unmatched.push(`${key(now)} (not in the baseline)`);
      continue;
    }
    for (const metric of Object.keys(now.metrics) as MetricKey[]) {
      const a = then.metrics[metric];
      const b = now.metrics[metric];
      rows.push(row(now, metric, a?.value ?? null, b?.value ?? null, a?.noise ?? null, b?.noise ?? null));
    }
  }
  for (const then of baseline.summaries) {
    if (!current.some((c) => c.scenario === then.scenario && c.target === then.target))
      unmatched.push(`${key(then)} (only in the baseline)`);
  }
  return { file, startedAt: baseline.startedAt, engine: baseline.engine, rows, unmatched };
}

function row(
  s: ScenarioSummary,
  metric: MetricKey,
  baseline: number | null,
  current: number | null,
  baselineNoise: number | null,
  currentNoise: number | null,
): BaselineRow {
  const base = { scenario: s.scenario, target: s.target, metric, baseline, current };
  if (baseline === null || current === null)
    return { ...base, changePct: null, noisePct: null, verdict: '-' };
  const changePct =
    baseline === 0
      ? current === 0
        ? 0
        : null
      : Math.round(((current - baseline) / Math.abs(baseline)) * 1000) / 10;
  const noises = [baselineNoise, currentNoise].filter((n): n is number => n !== null);
  const noisePct = noises.length === 0 ? null : Math.round(Math.max(...noises) * 1000) / 10;
  let verdict: BaselineRow['verdict'];
  if (changePct === null) verdict = '-';
  else if (noisePct === null) verdict = 'noise unknown';
  else if (Math.abs(changePct) <= noisePct) verdict = 'within noise';
  else {
    const up = changePct > 0;
    verdict = (METRICS[metric].better === 'higher') === up ? 'better' : 'worse';
  }
  return { ...base, changePct, noisePct, verdict };
}
