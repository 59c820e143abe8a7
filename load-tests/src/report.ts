// The compare report: the console table, the ratios, and the files in reports/<timestamp>/
// (results.json, report.html, summary.txt).
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Target } from './catalogue.ts';
import { failedThresholds, formatMs, formatRatio } from './format.ts';
import { renderHtml } from './html.ts';
import type { RunResult } from './runner.ts';

export const REPORTS_DIR = join(import.meta.dirname, '..', 'reports');

export interface RatioTriple {
  throughput: number | null;
  p50: number | null;
  p99: number | null;
}

export interface ScenarioRatios {
  scenario: string;
  /** modern ÷ legacy: > 1 means modern served more req/s; < 1 for p50/p99 means modern was faster. */
  modernVsLegacy: RatioTriple | null;
  /** gateway ÷ the backend it routed to (`direct`): the cost of the proxy hop. */
  gatewayVsDirect: (RatioTriple & { direct: Target; basis: string }) | null;
}

export interface CompareReport {
  tool: '@pilot/load-tests compare';
  mode: 'full' | 'smoke';
  startedAt: string;
  finishedAt: string;
  catalogue: { path: string; sha256: string };
  machine: { node: string; platform: string; cpus: number };
  targets: Partial<Record<Target, string>>;
  stackSource: string;
  upstreamMetric: string;
  runs: RunResult[];
  ratios: ScenarioRatios[];
  notes: string[];
}

export function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  if (a === null || a === undefined || b === null || b === undefined || b === 0 || !Number.isFinite(a / b))
    return null;
  return Math.round((a / b) * 100) / 100;
}

function triple(a: RunResult, b: RunResult): RatioTriple {
  return {
    throughput: ratio(a.throughput, b.throughput),
    p50: ratio(a.latency.p50, b.latency.p50),
    p99: ratio(a.latency.p99, b.latency.p99),
  };
}

/**
 * The backend the gateway's numbers should be compared with: the one its backend header
 * named most often; else legacy (the strangler default) when legacy runs the scenario,
 * else modern.
 */
export function directFor(gateway: RunResult, available: Target[]): { direct: Target; basis: string } | null {
  const named = Object.entries(gateway.servedBy)
    .filter(([name]) => name === 'legacy' || name === 'modern')
    .sort((a, b) => b[1] - a[1]);
  const top = named[0]?.[0] as Target | undefined;
  if (top && available.includes(top)) return { direct: top, basis: 'backend header' };
  if (available.includes('legacy')) return { direct: 'legacy', basis: 'default (no backend header)' };
  if (available.includes('modern')) return { direct: 'modern', basis: 'default (no backend header)' };
  return null;
}

export function computeRatios(runs: RunResult[]): ScenarioRatios[] {
  const scenarios = [...new Set(runs.map((run) => run.scenario))];
  return scenarios.map((scenario) => {
    const of = (target: Target) => runs.find((run) => run.scenario === scenario && run.target === target);
    const legacy = of('legacy');
    const modern = of('modern');
    const gateway = of('gateway');
    let gatewayVsDirect: ScenarioRatios['gatewayVsDirect'] = null;
    if (gateway) {
      const available = (['legacy', 'modern'] as Target[]).filter((t) => of(t));
      const choice = directFor(gateway, available);
      const direct = choice ? of(choice.direct) : undefined;
      if (choice && direct) gatewayVsDirect = { ...triple(gateway, direct), ...choice };
    }
    return { scenario, modernVsLegacy: legacy && modern ? triple(modern, legacy) : null, gatewayVsDirect };
  });
}

export function textTable(header: string[], rows: string[][], rightAligned: Set<number> = new Set()): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (rightAligned.has(i) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join(' | ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('-|-'), ...rows.map(line)].join('\n');
}

export function resultsTable(runs: RunResult[]): string {
  const rows = runs.map((run) => [
    run.scenario,
    run.target,
    run.throughput.toFixed(1),
    formatMs(run.latency.p50),
    formatMs(run.latency.p99),
    run.errors === 0 ? '0' : `${run.errors} (${(run.errorRate * 100).toFixed(1)}%)`,
    run.upstreamCalls === null ? '-' : String(run.upstreamCalls),
    run.thresholds.ok ? 'pass' : `FAIL ${failedThresholds(run).join(',')}`,
  ]);
  return textTable(
    ['scenario', 'target', 'req/s', 'p50', 'p99', 'errors', 'upstream calls', 'thresholds'],
    rows,
    new Set([2, 3, 4, 5, 6]),
  );
}

export function ratiosTable(ratios: ScenarioRatios[]): string {
  const rows = ratios.map((r) => [
    r.scenario,
    formatRatio(r.modernVsLegacy?.throughput ?? null),
    formatRatio(r.modernVsLegacy?.p50 ?? null),
    formatRatio(r.modernVsLegacy?.p99 ?? null),
    r.gatewayVsDirect ? `gateway/${r.gatewayVsDirect.direct}` : '-',
    formatRatio(r.gatewayVsDirect?.throughput ?? null),
    formatRatio(r.gatewayVsDirect?.p50 ?? null),
    formatRatio(r.gatewayVsDirect?.p99 ?? null),
  ]);
  return textTable(
    ['scenario', 'modern/legacy req/s', 'p50', 'p99', 'gateway/direct', 'req/s', 'p50', 'p99'],
    rows,
    new Set([1, 2, 3, 5, 6, 7]),
  );
}

export function summaryText(report: CompareReport): string {
  return [
    `pilot compare (${report.mode}) ${report.startedAt} → ${report.finishedAt}`,
    `targets: ${Object.entries(report.targets)
      .map(([t, u]) => `${t}=${u}`)
      .join('  ')} (${report.stackSource})`,
    '',
    resultsTable(report.runs),
    '',
    'ratios (req/s: > 1 is more throughput; p50/p99: < 1 is faster)',
    ratiosTable(report.ratios),
    ...(report.notes.length > 0 ? ['', 'notes:', ...report.notes.map((n) => `- ${n}`)] : []),
    '',
  ].join('\n');
}

/** reports/<UTC timestamp>[-smoke]/, never reusing an existing directory. */
export function reportDir(root: string, when: Date, mode: 'full' | 'smoke'): string {
  const stamp = when
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/:/g, '-');
  const base = join(root, mode === 'smoke' ? `${stamp}-smoke` : stamp);
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
