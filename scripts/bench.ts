// `pnpm bench` / `./pilot bench`: every package's bench, one after another (turbo, concurrency 1:
// benches must not share the cores), then one summary table of the results this run wrote
// (scripts/bench-summary.ts). Arguments go to turbo, e.g. `./pilot bench --filter=@pilot/modern`.
// Exits non-zero when a bench failed or wrote no results.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { printSummary } from './bench-summary.ts';

const root = join(import.meta.dirname, '..');
const started = Date.now();
const child = spawn('pnpm', ['exec', 'turbo', 'run', 'bench', '--concurrency=1', ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => {
  const failed = printSummary(started);
  process.exitCode = code !== 0 || signal ? (code ?? 1) || 1 : failed ? 1 : 0;
});
