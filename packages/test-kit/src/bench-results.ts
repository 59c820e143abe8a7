import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, hostname, loadavg, release, totalmem } from 'node:os';
import { dirname, join } from 'node:path';

/**
 * The one JSON shape every benchmark writes (one file per package under `bench-results/` at the
 * repository root, ignored by git), read back by the root `./pilot bench` summary:
 *
 *   { package, date, machine, setup?, results: [...], targets: [{ name, value, target, met, divides }] }
 *
 * `results` are the bench's own rows (each with a `name`); `targets` are the figures a
 * requirement names, each saying what it divides, so a ratio is never read without its terms.
 */
export const BENCH_RESULTS_FORMAT = 'pilot-bench/1';
export const BENCH_RESULTS_DIR = 'bench-results';

export interface BenchMachine {
  hostname: string;
  platform: string;
  kernel: string;
  arch: string;
  cpuModel: string;
  /** Cores of the machine. */
  cores: number;
  /** Cores the writing process may run on (fewer when it was pinned). */
  coresAvailable: number;
  memoryMb: number;
  node: string;
  /** 1, 5 and 15 minute load averages when the report was written (a shared machine's noise). */
  loadavg: number[];
}

export interface BenchResult {
  name: string;
  [figure: string]: unknown;
}

export interface BenchTarget {
  name: string;
  /** null: not measured in this run (say why in `note`). */
  value: number | null;
  /** The bound `value` is compared with, in `comparison` direction. */
  target: number;
  comparison: '>=' | '<=';
  met: boolean;
  /** What the ratio divides, e.g. "modern L1-hit requests per CPU-second / bare node:http requests per CPU-second". */
  divides: string;
  note?: string;
}

export interface BenchReport {
  format: typeof BENCH_RESULTS_FORMAT;
  package: string;
  /** ISO time the run finished. */
  date: string;
  machine: BenchMachine;
  /** How the run was set up (durations, connections, pinning...), free-form. */
  setup?: Record<string, unknown>;
  results: BenchResult[];
  targets: BenchTarget[];
}

export function describeMachine(): BenchMachine {
  const cpuList = cpus();
  return {
    hostname: hostname(),
    platform: process.platform,
    kernel: release(),
    arch: process.arch,
    cpuModel: cpuList[0]?.model.trim() ?? 'unknown',
    cores: cpuList.length,
    coresAvailable: availableParallelism(),
    memoryMb: Math.round(totalmem() / 2 ** 20),
    node: process.version,
    loadavg: loadavg().map((n) => Math.round(n * 100) / 100),
  };
}

/** A target with `met` worked out; `value` null (not measured) is never met. */
export function benchTarget(
  name: string,
  value: number | null,
  comparison: '>=' | '<=',
  target: number,
  divides: string,
  note?: string,
): BenchTarget {
  const met =
    value !== null && Number.isFinite(value) && (comparison === '>=' ? value >= target : value <= target);
  return { name, value, target, comparison, met, divides, ...(note ? { note } : {}) };
}

/** The median of a bench's rounds and how far it can be trusted (`medianInterval`). */
export interface MedianInterval {
  median: number;
  low: number;
  high: number;
  /** The chance that the interval holds the true median (exact, from the binomial distribution). */
  coverage: number;
}

/**
 * The median of `values` with a distribution-free confidence interval: the sorted values at
 * ranks k and n + 1 − k, for the largest k whose interval still covers the true median with at
 * least `confidence` (the binomial count of rounds below the median). Rounds of a CPU bench on a
 * shared machine are not normal, so no mean ± standard error. With too few rounds for
 * `confidence` (fewer than 6 at 95 %) the interval is the whole range and `coverage` says what
 * that range is worth. Undefined for no values.
 */
export function medianInterval(values: readonly number[], confidence = 0.95): MedianInterval | undefined {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  if (n === 0) return undefined;
  const median = n % 2 ? sorted[(n - 1) / 2]! : (sorted[n / 2 - 1]! + sorted[n / 2]!) / 2;
  // below[j] = P(Binomial(n, 1/2) <= j): the chance that at most j rounds fall below the median
  const below: number[] = [];
  let term = 0.5 ** n;
  let sum = 0;
  for (let j = 0; j < n; j++) {
    sum += term;
    below.push(sum);
    term = (term * (n - j)) / (j + 1);
  }
  let k = 1;
  while (k + 1 <= Math.floor((n + 1) / 2) && 1 - 2 * below[k]! >= confidence) k++;
  return { median, low: sorted[k - 1]!, high: sorted[n - k]!, coverage: 1 - 2 * below[k - 1]! };
}

/** The repository root (the folder with pnpm-workspace.yaml) above `from`. */
/** Prints each target as `met` / `MISS` with its value and bound (the line every bench ends with). */
export function printTargets(
  targets: readonly BenchTarget[],
  log: (line: string) => void = console.log,
): void {
  for (const t of targets)
    log(`${t.met ? 'met ' : 'MISS'} ${t.name}: ${t.value} (${t.comparison} ${t.target})`);
}

export function repoRoot(from = process.cwd()): string {
  let dir = from;
  for (;;) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no pnpm-workspace.yaml above ${from}`);
    dir = parent;
  }
}

/** `bench-results/` at the repository root, or BENCH_RESULTS_DIR from the environment. */
export function benchResultsDir(env: Record<string, string | undefined> = process.env): string {
  return env.BENCH_RESULTS_DIR || join(repoRoot(), BENCH_RESULTS_DIR);
}

/** `@pilot/modern` → `pilot-modern.json`. */
export function benchResultsFile(pkg: string): string {
  return `${pkg.replace(/^@/, '').replace(/[^A-Za-z0-9._-]+/g, '-')}.json`;
}

/**
 * Writes the report (atomically: a reader never sees half a file) and returns its path.
 * `date` and `machine` are filled in here.
 */
export function writeBenchReport(
  report: Omit<BenchReport, 'format' | 'date' | 'machine'> & Partial<Pick<BenchReport, 'date' | 'machine'>>,
  dir = benchResultsDir(),
): string {
  const full: BenchReport = {
    format: BENCH_RESULTS_FORMAT,
    package: report.package,
    date: report.date ?? new Date().toISOString(),
    machine: report.machine ?? describeMachine(),
    ...(report.setup ? { setup: report.setup } : {}),
    results: report.results,
    targets: report.targets,
  };
  mkdirSync(dir, { recursive: true });
  const file = join(dir, benchResultsFile(report.package));
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(full, null, 2)}\n`);
  renameSync(tmp, file);
  return file;
}

export type ReadBenchReport = { file: string; report: BenchReport } | { file: string; problem: string };

/** Every report in `dir`, each checked; `sinceMs`: reports dated earlier are refused as left over. */
export function readBenchReports(dir: string, sinceMs = 0): ReadBenchReport[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => name.endsWith('.json'))
    .sort()
    .map((name): ReadBenchReport => {
      const file = join(dir, name);
      let report: BenchReport;
      try {
        report = JSON.parse(readFileSync(file, 'utf8')) as BenchReport;
      } catch (error) {
        return { file, problem: `unreadable (${(error as Error).message})` };
      }
      if (report?.format !== BENCH_RESULTS_FORMAT || typeof report.package !== 'string')
        return { file, problem: `not a ${BENCH_RESULTS_FORMAT} report` };
      const date = Date.parse(report.date);
      if (!Number.isFinite(date)) return { file, problem: 'no valid date' };
      if (date < sinceMs) return { file, problem: `left over from an earlier run (${report.date})` };
      if (!Array.isArray(report.results) || !Array.isArray(report.targets))
        return { file, problem: 'results or targets missing' };
      return { file, report };
    });
}

/**
 * The cores `taskset` may pin this process's children to, or [] where it cannot (not Linux, no
 * taskset, fewer than 2 cores): a bench then pins the server to one core and the load generator
 * to another, so neither measures the other.
 */
export function pinnableCores(): number[] {
  if (process.platform !== 'linux' || availableParallelism() < 2) return [];
  try {
    const out = execFileSync('taskset', ['-p', '-c', String(process.pid)], { encoding: 'utf8' });
    const list = out.slice(out.lastIndexOf(':') + 1).trim();
    const cores: number[] = [];
    for (const part of list.split(',')) {
      const [from, to = from] = part.split('-').map(Number) as [number, number?];
      for (let c = from; c <= (to as number); c++) cores.push(c);
    }
    return cores.length >= 2 && cores.every(Number.isInteger) ? cores : [];
  } catch {
    return [];
  }
}

/** Pins every thread of `pid` to `cpuList` (e.g. "0"); false when taskset refuses. */
export function pinToCores(pid: number, cpuList: string): boolean {
  try {
    execFileSync('taskset', ['-a', '-p', '-c', cpuList, String(pid)], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** CPU seconds (user + system) `pid` has used, from /proc/<pid>/stat; null where there is no /proc. */
export function procCpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // fields after the parenthesised command name (which may contain spaces)
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime
    return ticks / clockTicksPerSecond();
  } catch {
    return null;
  }
}

let ticksPerSecond: number | undefined;
function clockTicksPerSecond(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}
