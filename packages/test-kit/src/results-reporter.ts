import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Reporter, TestCase, TestModule, TestRunEndReason, Vitest } from 'vitest/node';

/** Written next to each package's vitest config; the root `pnpm test` reads it. */
export const RESULTS_FILE = 'test-results.json';
/** The browser phase's results (`test:browser`), run on its own after every package's tests. */
export const BROWSER_RESULTS_FILE = 'test-results.browser.json';
export const RESULTS_FORMAT = 'pilot-test-results/1';

export interface FileResult {
  /** Path relative to the package. */
  file: string;
  state: string;
  /** Errors outside any test: the file failed to load, or a beforeAll/afterAll hook threw. */
  errors: string[];
}

export interface PilotTestResults {
  format: typeof RESULTS_FORMAT;
  reason: TestRunEndReason;
  startedAt: string;
  finishedAt: string;
  counts: {
    passed: number;
    failed: number;
    /** Tests that never ran because their file or suite failed first (or the run was interrupted). */
    notRun: number;
    /** Skipped on purpose (`it.skip`, `ctx.skip()`, `.only` elsewhere). */
    skipped: number;
    todo: number;
    /** Files that failed outside any test (load error, hook error). */
    failedFiles: number;
    unhandledErrors: number;
  };
  files: FileResult[];
  /** Names of failed and not-run tests, so the summary can say what broke. */
  failedTests: string[];
  skippedTests: string[];
  unhandledErrors: string[];
}

type Kind = 'passed' | 'failed' | 'notRun' | 'skipped' | 'todo';

/** Whether a test was skipped because something above it failed, rather than on purpose. */
function ancestorFailed(test: TestCase): boolean {
  for (let node: TestCase['parent'] | undefined = test.parent; node; ) {
    if (node.state() === 'failed' && node.errors().length > 0) return true;
    node = node.type === 'suite' ? node.parent : undefined;
  }
  return false;
}

export function classify(test: TestCase): Kind {
  const result = test.result();
  if (result.state === 'passed') return 'passed';
  if (result.state === 'failed') return 'failed';
  if (result.state === 'pending') return 'notRun';
  if (test.options.mode === 'todo') return 'todo';
  if (test.options.mode === 'run' && ancestorFailed(test)) return 'notRun';
  return 'skipped';
}

function message(error: { message?: string; name?: string }): string {
  return `${error.name && error.name !== 'Error' ? `${error.name}: ` : ''}${error.message ?? String(error)}`
    .split('\n')[0]!
    .slice(0, 300);
}

/** Counts built from the run's own test modules, so nothing that failed is reported as skipped. */
export function summarize(
  modules: ReadonlyArray<TestModule>,
  unhandled: ReadonlyArray<{ message?: string; name?: string }>,
  reason: TestRunEndReason,
  startedAt: Date,
): PilotTestResults {
  const counts = { passed: 0, failed: 0, notRun: 0, skipped: 0, todo: 0, failedFiles: 0, unhandledErrors: 0 };
  const files: FileResult[] = [];
  const failedTests: string[] = [];
  const skippedTests: string[] = [];
  for (const module of modules) {
    const errors = [module, ...module.children.allSuites()].flatMap((s) => s.errors().map(message));
    let broken = 0;
    for (const test of module.children.allTests()) {
      const kind = classify(test);
      counts[kind] += 1;
      const name = `${module.relativeModuleId} > ${test.fullName}`;
      if (kind === 'failed' || kind === 'notRun') {
        broken += 1;
        failedTests.push(kind === 'notRun' ? `${name} (not run)` : name);
      } else if (kind === 'skipped') skippedTests.push(name);
    }
    const state = module.state();
    // A file that failed with no failing test of its own (load error, afterAll error, no tests
    // collected) still failed.
    if ((state === 'failed' || errors.length > 0) && broken === 0) counts.failedFiles += 1;
    if (state !== 'passed' || errors.length > 0) files.push({ file: module.relativeModuleId, state, errors });
  }
  counts.unhandledErrors = unhandled.length;
  return {
    format: RESULTS_FORMAT,
    reason,
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    counts,
    files,
    failedTests,
    skippedTests,
    unhandledErrors: unhandled.map(message),
  };
}

/**
 * Writes test-results.json with counts that tell the truth about a run: a file that failed to
 * load or a suite whose hook threw counts as failed (vitest's own JSON report lists its tests as
 * skipped), unhandled errors are counted, an interrupted run says so.
 */
export class PilotResultsReporter implements Reporter {
  private root = process.cwd();
  private startedAt = new Date();
  private readonly outputDir: string | undefined;
  private readonly file: string;

  /**
   * `outputDir`: where the results go; default the vitest root (the package). `file`: their
   * name, test-results.json unless this is another phase's run (the browser tests).
   */
  constructor(options: { outputDir?: string; file?: string } = {}) {
    this.outputDir = options.outputDir;
    this.file = options.file ?? RESULTS_FILE;
  }

  onInit(vitest: Vitest): void {
    this.root = this.outputDir ?? vitest.config.root;
    this.startedAt = new Date();
  }

  onTestRunEnd(
    modules: ReadonlyArray<TestModule>,
    unhandled: ReadonlyArray<{ message?: string; name?: string }>,
    reason: TestRunEndReason,
  ): void {
    const results = summarize(modules, unhandled, reason, this.startedAt);
    writeFileSync(resolve(this.root, this.file), `${JSON.stringify(results, null, 2)}\n`);
  }
}
