// The compare report: console tables (results, capacity, cost, ratios, baseline) and the files
// in reports/<timestamp>/ (results.json, report.html, summary.txt).
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { failedThresholds, formatBytes, formatMs, formatNumber, formatRatio } from './format.ts';
import { renderHtml } from './html.ts';
import type { BaselineComparison, CompareReport, Ratio, RunResult, ScenarioSummary } from './model.ts';
import { METRICS, ratioRows } from './summary.ts';

export const REPORTS_DIR = join(import.meta.dirname, '..', 'reports');

export function textTable(header: string[], rows: string[][], rightAligned: Set<number> = new Set()): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (rightAligned.has(i) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join(' | ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('-|-'), ...rows.map(line)].join('\n');
}

const ownCost = (run: RunResult) => run.cost?.processes.find((p) => p.name === run.cost?.own);

/** "0.412 · 0.530": CPU-seconds per 1,000 requests of the target's process · of its whole path. */
export function cpuCell(run: RunResult): string {
  const own = ownCost(run);
  if (!own || own.cpuPer1k === null) return own?.source === 'in-process' ? 'in-process' : '-';
  const path = run.cost?.pathCpuPer1k;
  return `${formatNumber(own.cpuPer1k, 3)} · ${path === null || path === undefined ? '-' : formatNumber(path, 3)}`;
}

export function rssCell(run: RunResult): string {
  const own = ownCost(run);
  return own?.peakRssBytes ? formatBytes(own.peakRssBytes) : '-';
}

export function generatorCell(run: RunResult): string {
  const g = run.cost?.generator;
  if (!g) return '-';
  return `${g.cpuCores.toFixed(2)} cores${g.saturated ? ' SATURATED' : g.late ? ' LATE' : ''}`;
}

const roundCol = (runs: RunResult[]) => runs.some((r) => r.round > 1);

/** Fixed, soak and spike runs: one row per run. */
export function resultsTable(runs: RunResult[]): string {
  const rounds = roundCol(runs);
  const rows = runs
    .filter((run) => run.kind !== 'capacity')
    .map((run) => [
      run.scenario,
      run.target,
      ...(rounds ? [String(run.round)] : []),
      formatNumber(run.offeredRate, 1),
      run.throughput.toFixed(1),
      run.latency.count > 0 ? formatMs(run.latency.p50) : '-',
      run.latency.count > 0 ? formatMs(run.latency.p99) : '-',
      run.errors === 0 ? '0' : `${run.errors} (${(run.errorRate * 100).toFixed(1)}%)`,
      cpuCell(run),
      rssCell(run),
      generatorCell(run),
      run.upstreamCalls === null ? '-' : String(run.upstreamCalls),
      run.unverifiable
        ? 'not verifiable'
        : run.thresholds.ok
          ? 'pass'
          : `FAIL ${failedThresholds(run).join(',')}`,
    ]);
  return textTable(
    [
      'scenario',
      'target',
      ...(rounds ? ['round'] : []),
      'offered it/s',
      'req/s',
      'p50',
      'p99',
      'errors',
      'CPU-s/1k req own · path',
      'peak RSS',
      'generator',
      'upstream calls',
      'thresholds',
    ],
    rows,
    new Set(rounds ? [2, 3, 4, 5, 6, 7, 8, 9, 11] : [2, 3, 4, 5, 6, 7, 8, 10]),
  );
}

/** Capacity runs: capacity at SLO, where and why it broke, the knee, cost. */
export function capacityTable(runs: RunResult[]): string {
  const rounds = roundCol(runs);
  const rows = runs
    .filter((run) => run.capacity)
    .map((run) => {
      const c = run.capacity!;
      const cap =
        c.limitedBy === 'slo'
          ? c.capacityAtSlo === null
            ? '< first step'
            : `${formatNumber(c.capacityAtSlo, 0)}/s`
          : c.limitedBy === 'no-data'
            ? '-'
            : `≥ ${formatNumber(c.capacityAtSlo ?? 0, 0)}/s`;
      return [
        run.scenario,
        run.target,
        ...(rounds ? [String(run.round)] : []),
        cap,
        c.breach ? `${formatNumber(c.breach.rate, 0)}/s` : '-',
        c.limitedBy === 'generator'
          ? `GENERATOR LIMIT: ${c.breach?.reasons.join('; ') ?? ''}`
          : c.limitedBy === 'max-rate'
            ? 'held at every step'
            : (c.breach?.reasons.join('; ') ?? '-'),
        c.knee ? `${formatNumber(c.knee.rate, 0)}/s (p99 ${formatMs(c.knee.p99)})` : '-',
        cpuCell(run),
        rssCell(run),
        generatorCell(run),
      ];
    });
  return textTable(
    [
      'scenario',
      'target',
      ...(rounds ? ['round'] : []),
      'capacity at SLO',
      'broke at',
      'why',
      'knee',
      'CPU-s/1k req own · path',
      'peak RSS',
      'generator',
    ],
    rows,
    new Set(rounds ? [2, 3, 4, 8, 9] : [2, 3, 7, 8]),
  );
}

/** Soak and spike verdicts, one line each. */
export function verdictLines(runs: RunResult[]): string[] {
  return runs.flatMap((run) => {
    const where = `${run.scenario} → ${run.target}${run.round > 1 ? ` (round ${run.round})` : ''}`;
    if (run.soak) return [`${where}: ${run.soak.summary}`];
    if (run.spike) return [`${where}: ${run.spike.summary}`];
    return [];
  });
}

export function formatMetric(key: keyof typeof METRICS, value: number | null | undefined): string {
  if (value === null || value === undefined) return '-';
  switch (METRICS[key].unit) {
    case 'ms':
      return formatMs(value);
    case '%':
      return `${(value * 100).toFixed(2)}%`;
    case 'it/s':
      return `${formatNumber(value, 0)}/s`;
    case 'MB':
      return `${formatNumber(value, 1)} MB`;
    case 's':
      return `${formatNumber(value, 0)} s`;
    case '×':
      return `×${formatNumber(value, 2)}`;
    default:
      return formatNumber(value, 3);
  }
}

const ratioCell = (r: Ratio | undefined) =>
  r
    ? `${r.note ? '≥? ' : ''}${formatRatio(r.value)}${r.numerator === 'gateway' ? ` (÷ ${r.denominator})` : ''}`
    : '-';

export function ratiosTable(ratios: Ratio[]): string {
  const rows = ratioRows(ratios).map((r) => [
    r.scenario,
    METRICS[r.metric].label,
    ratioCell(r.modern),
    ratioCell(r.gateway),
  ]);
  const notes = [...new Set(ratios.filter((r) => r.note).map((r) => `${r.scenario}: ${r.note}`))];
  return [
    textTable(['scenario', 'metric', 'modern ÷ legacy', 'gateway ÷ direct backend'], rows, new Set([2, 3])),
    ...notes.map((n) => `  ≥? ${n}`),
  ].join('\n');
}

/** Medians over rounds with their noise (only printed with 2+ rounds). */
export function roundsTable(summaries: ScenarioSummary[]): string {
  const rows = summaries.flatMap((s) =>
    Object.entries(s.metrics).map(([key, m]) => [
      s.scenario,
      s.target,
      METRICS[key as keyof typeof METRICS].label,
      formatMetric(key as keyof typeof METRICS, m.value),
      m.values.map((v) => formatMetric(key as keyof typeof METRICS, v)).join(', '),
      m.noise === null ? '-' : `±${(m.noise * 100).toFixed(1)}%`,
    ]),
  );
  return textTable(['scenario', 'target', 'metric', 'median', 'rounds', 'noise'], rows, new Set([3, 5]));
}

export function baselineTable(baseline: BaselineComparison): string {
  const rows = baseline.rows.map((r) => [
    r.scenario,
    r.target,
    METRICS[r.metric].label,
    formatMetric(r.metric, r.baseline),
    formatMetric(r.metric, r.current),
    r.changePct === null ? '-' : `${r.changePct > 0 ? '+' : ''}${r.changePct.toFixed(1)}%`,
    r.noisePct === null ? '?' : `±${r.noisePct.toFixed(1)}%`,
    r.verdict === 'better' || r.verdict === 'worse' ? r.verdict.toUpperCase() : r.verdict,
  ]);
  return textTable(
    ['scenario', 'target', 'metric', 'baseline', 'now', 'change', 'noise', 'verdict'],
    rows,
    new Set([3, 4, 5, 6]),
  );
}

/** The whole console report (also summary.txt). */
export function summaryText(report: CompareReport): string {
  const out: string[] = [
    `pilot load report (${report.engine}, ${report.mode}, ${report.kinds.join('+')}) ${report.startedAt} → ${report.finishedAt}`,
    `targets: ${Object.entries(report.targets)
      .map(([t, u]) => `${t}=${u}`)
      .join('  ')} (${report.stackSource})`,
  ];
  if (report.runs.some((r) => r.kind !== 'capacity')) out.push('', resultsTable(report.runs));
  if (report.runs.some((r) => r.capacity)) {
    out.push('', 'capacity at SLO: the highest offered rate whose step held p99 and errors within the SLO');
    out.push(capacityTable(report.runs));
  }
  const verdicts = verdictLines(report.runs);
  if (verdicts.length > 0) out.push('', ...verdicts);
  if (report.ratios.length > 0) {
    out.push(
      '',
      'ratios (each says what it divides; for capacity > 1 is better, for time, CPU and memory < 1 is better)',
    );
    out.push(ratiosTable(report.ratios));
  }
  if (report.rounds > 1)
    out.push(
      '',
      `medians over ${report.rounds} rounds, noise = (max − min) ÷ median`,
      roundsTable(report.summaries),
    );
  if (report.baseline) {
    out.push(
      '',
      `against the baseline ${report.baseline.file} (${report.baseline.startedAt}, ${report.baseline.engine})`,
    );
    out.push(baselineTable(report.baseline));
    for (const u of report.baseline.unmatched) out.push(`  unmatched: ${u}`);
  }
  if (report.notes.length > 0) out.push('', 'notes:', ...report.notes.map((n) => `- ${n}`));
  out.push('');
  return out.join('\n');
}

/** reports/<UTC timestamp>[-smoke]/, never reusing an existing directory. */
export function reportDir(root: string, when: Date, mode: 'full' | 'smoke', suffix = ''): string {
  const stamp = when
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/:/g, '-');
  const base = join(root, `${stamp}${mode === 'smoke' ? '-smoke' : ''}${suffix}`);
  let dir = base;
  for (let i = 2; existsSync(dir); i++) dir = `${base}-${i}`;
  return dir;
}

export interface WrittenReport {
  dir: string;
  json: string;
  html: string;
  text: string;
}

export function writeReport(report: CompareReport, dir: string): WrittenReport {
  mkdirSync(dir, { recursive: true });
  const files = {
    dir,
    json: join(dir, 'results.json'),
    html: join(dir, 'report.html'),
    text: join(dir, 'summary.txt'),
  };
  writeFileSync(files.json, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(files.html, renderHtml(report));
  writeFileSync(files.text, summaryText(report));
  return files;
}
