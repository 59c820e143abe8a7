// The closing summary of `pnpm test`: per-package counts read from each package's
// test-results.json (written by test-kit's PilotResultsReporter during THIS run, or restored by
// turbo from its cache for this run), joined with turbo's own record of each task's exit code.
// Anything that did not end well counts as failed: a missing or stale results file, a file that
// failed to load, a suite whose set-up threw, an unhandled error, a non-zero exit.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  BROWSER_RESULTS_FILE,
  type PilotTestResults,
  RESULTS_FILE,
  RESULTS_FORMAT,
} from '../../packages/test-kit/src/results-reporter.ts';

export { BROWSER_RESULTS_FILE, RESULTS_FILE };

export type ReadResults = { results: PilotTestResults } | { problem: string };

/** A package's results, refused when they are missing, older than this run, or not ours. */
export function readResults(file: string, runStartedMs: number): ReadResults {
  if (!existsSync(file)) return { problem: 'no results: the tests did not run or crashed before the end' };
  // Turbo restores cached outputs by writing them again, so this run's files are never older.
  if (statSync(file).mtimeMs < runStartedMs - 1000)
    return { problem: 'results file is left over from an earlier run: the tests did not run this time' };
  let results: PilotTestResults;
  try {
    results = JSON.parse(readFileSync(file, 'utf8')) as PilotTestResults;
  } catch (error) {
    return { problem: `unreadable results (${(error as Error).message})` };
  }
  if (results?.format !== RESULTS_FORMAT)
    return { problem: `results in an unknown format (not written by @pilot/test-kit's reporter)` };
  return { results };
}

export interface TaskOutcome {
  exitCode: number | null;
  cached: boolean;
}

export interface PackageRow {
  name: string;
  passed: number;
  /** Everything that went wrong, each counted once (see `detail`). */
  failed: number;
  skipped: number;
  ok: boolean;
  status: string;
  /** One line per failure, for the list under the table. */
  failures: string[];
  skippedTests: string[];
}

export function packageRow(name: string, read: ReadResults, task?: TaskOutcome): PackageRow {
  const cached = task?.cached ? ' (cached)' : '';
  const exit = task && task.exitCode !== 0 && task.exitCode !== null ? `exit ${task.exitCode}` : '';
  if ('problem' in read) {
    return {
      name,
      passed: 0,
      failed: 1,
      skipped: 0,
      ok: false,
      status: `FAILED: ${read.problem}${exit ? ` (${exit})` : ''}`,
      failures: [`${name}: ${read.problem}`],
      skippedTests: [],
    };
  }
  const { counts, files, failedTests, unhandledErrors, reason } = read.results;
  const parts: string[] = [];
  if (counts.failed) parts.push(`${counts.failed} test${counts.failed === 1 ? '' : 's'} failed`);
  if (counts.notRun) parts.push(`${counts.notRun} not run (their file or suite failed first)`);
  if (counts.failedFiles)
    parts.push(`${counts.failedFiles} file${counts.failedFiles === 1 ? '' : 's'} failed outside a test`);
  if (counts.unhandledErrors)
    parts.push(`${counts.unhandledErrors} unhandled error${counts.unhandledErrors === 1 ? '' : 's'}`);
  let failed = counts.failed + counts.notRun + counts.failedFiles + counts.unhandledErrors;
  const failures = [
    ...failedTests.map((test) => `${name}: ${test}`),
    ...files.flatMap((file) => file.errors.map((error) => `${name}: ${file.file}: ${error}`)),
    ...unhandledErrors.map((error) => `${name}: unhandled: ${error}`),
  ];
  // Whatever else made the run end badly still counts, so the summary never reads "0 failed"
  // beside a failing exit.
  if (failed === 0 && reason !== 'passed') {
    failed = 1;
    parts.push(`run ${reason}`);
    failures.push(`${name}: the test run ended as ${reason}`);
  }
  if (failed === 0 && exit) {
    failed = 1;
    parts.push(`vitest ${exit}`);
    failures.push(`${name}: vitest ended with ${exit} although every test passed (see its output)`);
  }
  return {
    name,
    passed: counts.passed,
    failed,
    skipped: counts.skipped + counts.todo,
    ok: failed === 0,
    status: failed === 0 ? `ok${cached}` : `FAILED: ${parts.join(', ')}${cached}`,
    failures,
    skippedTests: read.results.skippedTests.map((test) => `${name}: ${test}`),
  };
}

/** Per-task exit codes and cache hits from the summary turbo wrote for this run (`--summarize`). */
export function readTurboSummary(root: string, sinceMs: number): Map<string, TaskOutcome> | null {
  const dir = join(root, '.turbo', 'runs');
  if (!existsSync(dir)) return null;
  const newest = readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .map((name) => ({ file: join(dir, name), mtime: statSync(join(dir, name)).mtimeMs }))
    .filter((entry) => entry.mtime >= sinceMs)
    .sort((a, b) => b.mtime - a.mtime)[0];
  if (!newest) return null;
  try {
    const summary = JSON.parse(readFileSync(newest.file, 'utf8')) as {
      tasks?: Array<{
        taskId: string;
        cache?: { status?: string };
        execution?: { exitCode?: number | null };
      }>;
    };
    const outcomes = new Map<string, TaskOutcome>();
    for (const task of summary.tasks ?? []) {
      outcomes.set(task.taskId, {
        exitCode: task.execution?.exitCode ?? null,
        cached: task.cache?.status === 'HIT',
      });
    }
    return outcomes;
  } catch {
    return null;
  }
}

export function renderTable(rows: PackageRow[]): string {
  const header = ['package', 'passed', 'failed', 'skipped', 'status'];
  const cells = rows.map((r) => [r.name, String(r.passed), String(r.failed), String(r.skipped), r.status]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) =>
    c
      .map((v, i) => (i === c.length - 1 ? v : v.padEnd(widths[i]!)))
      .join(' | ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('-|-'), ...cells.map(line)].join('\n');
}

export function totals(rows: PackageRow[]): { passed: number; failed: number; skipped: number } {
  return rows.reduce(
    (sum, r) => ({
      passed: sum.passed + r.passed,
      failed: sum.failed + r.failed,
      skipped: sum.skipped + r.skipped,
    }),
    { passed: 0, failed: 0, skipped: 0 },
  );
}
