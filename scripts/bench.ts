// `pnpm bench` / `./pilot bench`: every package's bench, one after another (turbo, concurrency 1:
// benches must not share the cores), then one summary table of the results this run wrote
// (scripts/bench-summary.ts). Arguments go to turbo, e.g. `./pilot bench --filter=@pilot/modern`:
// then only the packages it ran are expected to have written results.
// Exits non-zero when a bench failed or wrote no results.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { benchPackages, printSummary } from './bench-summary.ts';
import { readTurboSummary } from './testing/results.ts';

const root = join(import.meta.dirname, '..');
const started = Date.now();
const child = spawn(
  'pnpm',
  ['exec', 'turbo', 'run', 'bench', '--concurrency=1', '--summarize', ...process.argv.slice(2)],
  {
    cwd: root,
    stdio: 'inherit',
  },
);
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => {
  // the packages turbo ran (a --filter narrows them), else every package with a bench
  const ran = readTurboSummary(root, started);
  const expected = ran
    ? [...ran.keys()].filter((id) => id.endsWith('#bench')).map((id) => id.slice(0, -'#bench'.length))
    : benchPackages(root);
  const failed = printSummary(started, root, expected);
  process.exitCode = code !== 0 || signal ? (code ?? 1) || 1 : failed ? 1 : 0;
});
