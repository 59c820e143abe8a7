// `pnpm test` / `./pilot test`: sets up what the tests need (a Redis, Chromium), lints the whole
// tree, typechecks and tests the root scripts, then every package through turbo (cached when
// nothing changed), then the browser tests on their own (a real Chromium sharing two cores with
// ten vitest workers timed out), and closes with per-package counts that tell the truth about
// the run.
// Exits non-zero when anything failed; the summary then says what.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { formatDuration } from './lib/progress.ts';
import { chromiumForTests } from './setup/chromium.ts';
import { canInstallSystemPackages, SetupError } from './setup/commands.ts';
import { redisForTests, type TestRedis } from './setup/redis.ts';
import {
  BROWSER_RESULTS_FILE,
  type PackageRow,
  packageRow,
  RESULTS_FILE,
  readResults,
  readTurboSummary,
  renderTable,
  totals,
} from './testing/results.ts';

const root = join(import.meta.dirname, '..');
const turboArgs = process.argv.slice(2);
const runStarted = Date.now();
const say = (text: string) => console.log(`[test] ${text}`);

let current: ChildProcess | null = null;
let redis: TestRedis | null = null;
let interrupted: NodeJS.Signals | null = null;

interface WorkspacePackage {
  name: string;
  dir: string;
  /** Runs its Chromium tests in the browser phase (`test:browser`). */
  browser: boolean;
  /** Holds *.browser.test.ts files, which its plain `test` leaves out. */
  hasBrowserTests: boolean;
}

function workspacePackages(): WorkspacePackage[] {
  const dirs: string[] = [];
  for (const group of ['apps', 'packages']) {
    const base = join(root, group);
    if (existsSync(base)) for (const name of readdirSync(base)) dirs.push(join(group, name));
  }
  for (const single of ['gateway', 'load-tests']) dirs.push(single);
  return dirs
    .filter((dir) => existsSync(join(root, dir, 'package.json')))
    .map((dir) => ({ dir, pkg: JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8')) }))
    .filter(({ pkg }) => Boolean(pkg.scripts?.test))
    .map(({ dir, pkg }) => ({
      name: pkg.name as string,
      dir,
      browser: Boolean(pkg.scripts['test:browser']),
      hasBrowserTests: hasBrowserTests(join(root, dir, 'test')),
    }));
}

function hasBrowserTests(dir: string): boolean {
  if (!existsSync(dir)) return false;
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).some((f) => f.endsWith('.browser.test.ts'));
}

function run(label: string, command: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  if (interrupted) return Promise.resolve(130);
  say(`${label}: ${command} ${args.join(' ')}`);
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: root, stdio: 'inherit', env });
    current = child;
    child.on('error', (error) => {
      say(`${label}: could not run ${command}: ${error.message}`);
      resolve(127);
    });
    child.on('exit', (code, signal) => {
      current = null;
      const how = code === 0 ? 'ok' : `FAILED (${signal ?? `exit ${code}`})`;
      say(`${label}: ${how} in ${formatDuration(Date.now() - started)}`);
      resolve(code ?? 1);
    });
  });
}

async function stopRedis(): Promise<void> {
  const running = redis;
  redis = null;
  if (running?.source === 'started') {
    await running.stop();
    say(`redis: stopped the throwaway redis-server (pid ${running.pid})`);
  }
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) return;
    interrupted = signal;
    say(`${signal}: stopping the run`);
    // A terminal's Ctrl-C reaches the child too; `kill <pid>` of this process does not.
    current?.kill(signal);
    if (!current) void stopRedis().then(() => process.exit(130));
  });
}

async function main(): Promise<number> {
  say('setting up what the tests need');
  const context = {
    log: (line: string) => say(line),
    env: process.env,
    canInstall: canInstallSystemPackages(),
  };
  let chromium: string;
  try {
    redis = await redisForTests(context);
    chromium = await chromiumForTests(context);
  } catch (error) {
    if (!(error instanceof SetupError)) throw error;
    console.error(`[test] cannot run the tests: ${error.message}`);
    return 1;
  }
  const env: NodeJS.ProcessEnv = { ...process.env, REDIS_URL: redis.url, CHROMIUM_PATH: chromium };

  const packages = workspacePackages();
  // Results are read only from this run: whatever an earlier run left goes first.
  for (const dir of [...packages.map((p) => p.dir), 'scripts']) {
    rmSync(join(root, dir, RESULTS_FILE), { force: true });
    rmSync(join(root, dir, BROWSER_RESULTS_FILE), { force: true });
  }

  const lint = await run('lint', 'pnpm', ['exec', 'biome', 'lint', '.'], env);
  const tsc = await run('typecheck scripts', 'pnpm', ['exec', 'tsc', '-p', 'tsconfig.json'], env);
  await run('test scripts', 'pnpm', ['exec', 'vitest', 'run', '--config', 'scripts/vitest.config.ts'], env);
  const turboStarted = Date.now();
  const turbo = await run(
    'typecheck + test packages',
    'pnpm',
    ['exec', 'turbo', 'run', 'typecheck', 'test', '--continue', '--summarize', ...turboArgs],
    env,
  );
  if (interrupted) return 130;
  const tasks = readTurboSummary(root, turboStarted);
  const browserStarted = Date.now();
  const browserRun = await run(
    'browser tests, alone',
    'pnpm',
    ['exec', 'turbo', 'run', 'test:browser', '--continue', '--summarize', ...turboArgs],
    env,
  );
  if (interrupted) return 130;
  const browserTasks = readTurboSummary(root, browserStarted);

  const rows: PackageRow[] = [
    packageRow('scripts (root)', readResults(join(root, 'scripts', RESULTS_FILE), runStarted)),
  ];
  for (const { name, dir } of packages) {
    const task = tasks?.get(`${name}#test`);
    // With --filter, packages outside it are not part of this run.
    if (tasks && !task) continue;
    rows.push(packageRow(name, readResults(join(root, dir, RESULTS_FILE), runStarted), task));
  }
  for (const { name, dir, browser } of packages) {
    const task = browserTasks?.get(`${name}#test:browser`);
    if (!browser || (browserTasks && !task)) continue;
    const results = readResults(join(root, dir, BROWSER_RESULTS_FILE), browserStarted);
    rows.push(packageRow(`${name} (browser)`, results, task));
  }

  const problems: string[] = [];
  if (lint !== 0) problems.push('lint (biome)');
  if (tsc !== 0) problems.push('typecheck of scripts/');
  const typecheckFailed = [...(tasks ?? new Map())]
    .filter(([id, outcome]) => id.endsWith('#typecheck') && outcome.exitCode !== 0)
    .map(([id]) => id.replace(/#typecheck$/, ''));
  if (typecheckFailed.length > 0) problems.push(`typecheck of ${typecheckFailed.join(', ')}`);
  if (!tasks) problems.push('turbo left no run summary (it failed before running the tasks?)');
  if (!browserTasks) problems.push('turbo left no summary of the browser tests');
  // its `test` leaves those files out: without `test:browser` they would never run
  for (const p of packages.filter((p) => p.hasBrowserTests && !p.browser))
    problems.push(`${p.name} has *.browser.test.ts files but no test:browser script`);
  const sum = totals(rows);
  if (turbo !== 0 && problems.length === 0 && sum.failed === 0) problems.push(`turbo exited with ${turbo}`);
  if (browserRun !== 0 && problems.length === 0 && sum.failed === 0)
    problems.push(`turbo (browser tests) exited with ${browserRun}`);

  console.log(`\n${renderTable(rows)}`);
  const failures = rows.flatMap((r) => r.failures);
  if (failures.length > 0) {
    console.log(`\nFailed (${failures.length}):`);
    for (const line of failures.slice(0, 40)) console.log(`  - ${line}`);
    if (failures.length > 40) console.log(`  … and ${failures.length - 40} more (see the output above)`);
  }
  const skipped = rows.flatMap((r) => r.skippedTests);
  if (skipped.length > 0) {
    console.log(`\nSkipped on purpose (${skipped.length}; not counted as passed):`);
    for (const line of skipped.slice(0, 20)) console.log(`  - ${line}`);
  }
  const ok =
    problems.length === 0 && sum.failed === 0 && lint === 0 && tsc === 0 && turbo === 0 && browserRun === 0;
  console.log(
    `\n${sum.passed} passed, ${sum.failed} failed${sum.skipped ? `, ${sum.skipped} skipped` : ''}` +
      `${problems.length ? `; also failed: ${problems.join('; ')}` : ''} ` +
      `(${formatDuration(Date.now() - runStarted)}, redis ${redis.source === 'started' ? 'started for the run' : 'already running'})`,
  );
  console.log(ok ? 'RESULT: ok' : 'RESULT: FAILED');
  return ok ? 0 : 1;
}

let code = 1;
try {
  code = await main();
} finally {
  await stopRedis();
}
process.exit(interrupted ? 130 : code);
