// `pnpm test`: lint the whole tree once, then typecheck and test every package through turbo
// (cached when nothing changed), then print per-package test counts read from each package's
// test-results.json. Exits non-zero when anything failed.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const extraArgs = process.argv.slice(2);

function run(command: string, args: string[]): number {
  console.log(`\n> ${command} ${args.join(' ')}`);
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  return result.status ?? 1;
}

interface VitestJson {
  numPassedTests: number;
  numFailedTests: number;
  numPendingTests: number;
  numTodoTests: number;
  numTotalTestSuites: number;
  success: boolean;
}

function workspaceDirs(): string[] {
  const dirs: string[] = [];
  for (const group of ['apps', 'packages']) {
    const base = join(root, group);
    if (!existsSync(base)) continue;
    for (const name of readdirSync(base)) dirs.push(join(group, name));
  }
  for (const single of ['gateway', 'load-tests']) if (existsSync(join(root, single))) dirs.push(single);
  return dirs.filter((dir) => existsSync(join(root, dir, 'package.json')));
}

const lintStatus =
  run('pnpm', ['exec', 'biome', 'lint', '.']) || run('pnpm', ['exec', 'tsc', '-p', 'tsconfig.json']);
const turboStatus = run('pnpm', ['exec', 'turbo', 'run', 'typecheck', 'test', '--continue', ...extraArgs]);

const rows: string[][] = [];
let passed = 0;
let failed = 0;
let skipped = 0;
for (const dir of workspaceDirs()) {
  const pkg = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8')) as {
    name: string;
    scripts?: Record<string, string>;
  };
  if (!pkg.scripts?.test) continue;
  const file = join(root, dir, 'test-results.json');
  if (!existsSync(file)) {
    rows.push([pkg.name, '-', '-', '-', 'no results (did not run)']);
    failed += 1;
    continue;
  }
  const json = JSON.parse(readFileSync(file, 'utf8')) as VitestJson;
  const skip = json.numPendingTests + json.numTodoTests;
  passed += json.numPassedTests;
  failed += json.numFailedTests;
  skipped += skip;
  rows.push([
    pkg.name,
    String(json.numPassedTests),
    String(json.numFailedTests),
    String(skip),
    json.success ? 'ok' : 'FAILED',
  ]);
}

const header = ['package', 'passed', 'failed', 'skipped', 'status'];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ');
console.log(`\n${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('-|-')}`);
for (const row of rows) console.log(line(row));
if (lintStatus !== 0) console.log('\nlint: FAILED');
if (turboStatus !== 0) console.log('typecheck/test: FAILED (see output above)');
console.log(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(lintStatus !== 0 || turboStatus !== 0 || failed > 0 ? 1 : 0);
