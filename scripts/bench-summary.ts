// The closing table of `./pilot bench`: every package's bench-results/<package>.json written
// during THIS run (older files are named as left over, never shown as results), one row per
// target with its value, bound, verdict and what it divides, plus the packages whose bench
// wrote nothing. `node scripts/bench-summary.ts [--since <ms since epoch | ISO time>]` prints it
// for results already on disk.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  BENCH_RESULTS_DIR,
  type BenchReport,
  benchResultsFile,
  type ReadBenchReport,
  readBenchReports,
} from '../packages/test-kit/src/bench-results.ts';

const root = join(import.meta.dirname, '..');

/** Workspace packages with a `bench` script (what turbo runs). */
export function benchPackages(repo = root): string[] {
  const dirs: string[] = [];
  for (const group of ['apps', 'packages']) {
    const base = join(repo, group);
    if (existsSync(base)) for (const name of readdirSync(base)) dirs.push(join(repo, group, name));
  }
  for (const single of ['gateway', 'load-tests']) dirs.push(join(repo, single));
  return dirs
    .filter((dir) => existsSync(join(dir, 'package.json')))
    .map(
      (dir) =>
        JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
          name: string;
          scripts?: Record<string, string>;
        },
    )
    .filter((pkg) => Boolean(pkg.scripts?.bench))
    .map((pkg) => pkg.name)
    .sort();
}

const fmt = (n: number | null) =>
  n === null
    ? 'n/a'
    : Math.abs(n) >= 1000
      ? Math.round(n).toLocaleString('en-US')
      : String(Math.round(n * 1000) / 1000);

/** The summary as lines of text (no colours: it also lands in CI logs). */
export function renderSummary(
  read: ReadBenchReport[],
  expected: string[],
): { lines: string[]; failed: boolean } {
  const reports = read
    .filter((r): r is { file: string; report: BenchReport } => 'report' in r)
    .map((r) => r.report);
  const rows: string[][] = [['package', 'target', 'value', 'bound', 'met', 'divides']];
  for (const report of [...reports].sort((a, b) => a.package.localeCompare(b.package))) {
    if (report.targets.length === 0)
      rows.push([report.package, `(no targets; ${report.results.length} results)`, '', '', '', '']);
    for (const t of report.targets) {
      rows.push([
        report.package,
        t.name,
        fmt(t.value),
        `${t.comparison} ${fmt(t.target)}`,
        t.met ? 'yes' : 'NO',
        t.divides + (t.note ? ` (${t.note})` : ''),
      ]);
    }
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => (i === 5 ? 0 : row[i]!.length))));
  const lines = rows.map((row) =>
    row
      .map((cell, i) => (i === 5 ? cell : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd(),
  );
  lines.splice(1, 0, widths.map((w) => '-'.repeat(Math.max(w, 3))).join('  '));
  const byFile = new Set(reports.map((r) => benchResultsFile(r.package)));
  const problems: string[] = [];
  for (const name of expected)
    if (!byFile.has(benchResultsFile(name)))
      problems.push(`${name}: no results from this run (its bench failed or writes none)`);
  for (const r of read) if ('problem' in r) problems.push(`${r.file}: ${r.problem}`);
  const missed = reports.flatMap((r) =>
    r.targets.filter((t) => !t.met).map((t) => `${r.package}: ${t.name}`),
  );
  if (problems.length > 0) lines.push('', ...problems.map((p) => `! ${p}`));
  lines.push(
    '',
    `${reports.reduce((n, r) => n + r.targets.length, 0) - missed.length} of ${reports.reduce((n, r) => n + r.targets.length, 0)} targets met` +
      (reports.length > 0
        ? `; ${reports[0]!.machine.cpuModel}, ${reports[0]!.machine.cores} cores, node ${reports[0]!.machine.node}, load average ${reports
            .at(-1)!
            .machine.loadavg.join(' ')} at the end`
        : ''),
  );
  return { lines, failed: problems.some((p) => !p.includes('left over')) };
}

function sinceArg(argv: string[]): number {
  const i = argv.indexOf('--since');
  if (i < 0) return 0;
  const value = argv[i + 1] ?? '';
  const ms = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isFinite(ms)) throw new Error(`--since: not a time: ${value}`);
  return ms;
}

/**
 * Prints the summary of results written at or after `sinceMs`; true when an expected package
 * (default: every package with a bench script) wrote none.
 */
export function printSummary(sinceMs: number, repo = root, expected = benchPackages(repo)): boolean {
  const { lines, failed } = renderSummary(readBenchReports(join(repo, BENCH_RESULTS_DIR), sinceMs), expected);
  console.log(`\n[bench] summary (${join(repo, BENCH_RESULTS_DIR)}, results of this run only)\n`);
  for (const line of lines) console.log(`  ${line}`);
  return failed;
}

if (import.meta.main) process.exitCode = printSummary(sinceArg(process.argv.slice(2))) ? 1 : 0;
