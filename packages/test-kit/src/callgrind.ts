import { type ChildProcess, execFileSync, fork } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { perfMapNames } from './jit-names.ts';

export { perfMapNames };

/**
 * Instructions per request, counted by valgrind's callgrind: the figure that does not move with
 * a neighbour's load the way CPU seconds do on a shared 2-core machine (the same run twice
 * agreed within ~0.2 %). It counts user space only: system calls are not in it, so compare
 * processes that make the same ones (strace -c says which), and read it beside CPU time.
 *
 * A process runs under callgrind with instrumentation off (`callgrindArgs`), is warmed, then
 * `countWindow` switches counting on around a fixed amount of work and sums the dump, split by
 * where the instructions went: the program's own work (JIT code and the builtins and runtime it
 * calls), garbage collection and the JIT compilers.
 */

const GC =
  /Scaveng|Marking|Sweep|MarkCompact|Evacuat|heap::base|IterateObjectCache|SizeFromMap|FreeList|RememberedSet|Promoted|Ephemeron|ClearNonLive|ClearWeak|StringTableCleaner/;
const COMPILER = /compiler::|maglev::|turboshaft|Compile|Parser|Scanner|baseline::|JSHeapBroker|IdentityMap/;

export interface InstructionSplit {
  total: number;
  gc: number;
  compiler: number;
}

/** Whether valgrind can be run here. */
export function valgrindAvailable(): boolean {
  try {
    execFileSync('valgrind', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const OWNED_OPTIONS = new Set(['tool', 'quiet', 'smc-check', 'instr-atstart', 'callgrind-out-file']);

/**
 * `BENCH_CALLGRIND_ARGS`: more callgrind options for every count, e.g. `--cache-sim=yes
 * --branch-sim=yes` for simulated cache misses and mispredicted branches per request (what an
 * instruction count cannot see: a bigger program can run at a lower rate). Options only
 * (`--name=value`), so nothing else ends up on valgrind's command line.
 */
export function extraCallgrindArgs(value = process.env.BENCH_CALLGRIND_ARGS): string[] {
  const args = value?.trim() ? value.trim().split(/\s+/) : [];
  const bad = args.filter((arg) => !/^--[a-z][a-z0-9-]*=[^\s]+$/.test(arg));
  if (bad.length > 0) {
    throw new Error(`BENCH_CALLGRIND_ARGS: expected --name=value options, got ${bad.join(' ')}`);
  }
  // the ones the count itself depends on stay as callgrindArgs sets them
  const owned = args.filter((arg) => OWNED_OPTIONS.has(arg.slice(2, arg.indexOf('='))));
  if (owned.length > 0) {
    throw new Error(`BENCH_CALLGRIND_ARGS: ${owned.join(' ')} is set by the bench itself`);
  }
  return args;
}

/** valgrind's arguments to run `command` (node and its arguments) with counting off until asked. */
export function callgrindArgs(outFile: string, command: readonly string[]): string[] {
  return [
    '--tool=callgrind',
    // the banner and summary off; errors still show
    '--quiet',
    // V8 writes machine code at run time
    '--smc-check=all-non-file',
    '--instr-atstart=no',
    ...extraCallgrindArgs(),
    `--callgrind-out-file=${outFile}`,
    ...command,
  ];
}

/**
 * Forks the Node module `script` with `nodeFlags` and resolves with its first IPC message (a
 * bench participant saying where it listens). With `out`, it runs under callgrind with counting
 * off (`countWindow` switches it on), and with `attribute` V8 writes the perf map that names JIT
 * code (`perfMapNames`). Its standard error is inherited; stdout is dropped.
 */
export function forkParticipant<T>(
  script: string,
  args: readonly string[],
  options: { nodeFlags: readonly string[]; env?: NodeJS.ProcessEnv; out?: string; attribute?: boolean },
): Promise<{ child: ChildProcess; hello: T }> {
  const node = [...options.nodeFlags, ...(options.out && options.attribute ? ['--perf-basic-prof'] : [])];
  const env = { ...process.env, ...options.env };
  const stdio: ['ignore', 'ignore', 'inherit', 'ipc'] = ['ignore', 'ignore', 'inherit', 'ipc'];
  const child = options.out
    ? // valgrind runs node, which finds the IPC channel it inherits (NODE_CHANNEL_FD)
      fork(script, [...args], {
        execPath: 'valgrind',
        execArgv: callgrindArgs(options.out, [process.execPath, ...node]),
        env,
        stdio,
      })
    : fork(script, [...args], { execArgv: node, env, stdio });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${script} ${args.join(' ')} exited with ${code}`)));
    child.once('message', (hello) => resolve({ child, hello: hello as T }));
  });
}

/**
 * Sums callgrind_annotate's per-function counts of `file` into total / gc / compiler, and adds
 * each function's count (JIT code named through `nameOf`, when given) to `functions`.
 */
export function splitCallgrind(
  file: string,
  functions?: Map<string, number>,
  nameOf?: (address: number) => string | undefined,
): InstructionSplit {
  const out = execFileSync('callgrind_annotate', ['--inclusive=no', '--threshold=100', '--show=Ir', file], {
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  const sum: InstructionSplit = { total: 0, gc: 0, compiler: 0 };
  for (const line of out.split('\n')) {
    const match = /^\s*([\d,]+) \([ \d.%]+\)\s+(.*)$/.exec(line);
    if (!match) continue;
    const count = Number(match[1]!.replaceAll(',', ''));
    const name = match[2]!;
    if (name.includes('PROGRAM TOTALS')) {
      sum.total = count;
      continue;
    }
    if (GC.test(name)) sum.gc += count;
    else if (COMPILER.test(name)) sum.compiler += count;
    if (!functions) continue;
    const address = /^\?\?\?:0x([0-9a-f]+)/.exec(name);
    const label = address
      ? `JS ${nameOf?.(Number.parseInt(address[1]!, 16)) ?? 'code at an unknown address'}`
      : name.replace(/ \[.*\]$/, '');
    functions.set(label, (functions.get(label) ?? 0) + count);
  }
  return sum;
}

/**
 * Counts the instructions process `pid` (started with `callgrindArgs(join(dir, prefix), …)`)
 * spends while `work` runs; `work` resolves to how many requests it made. Per request: the
 * total, the program's own, GC and compilers. With `functions`, each function's count too.
 */
export async function countWindow(
  pid: number,
  dir: string,
  prefix: string,
  work: () => Promise<number>,
  attribute?: { functions: Map<string, number>; named: boolean },
): Promise<{
  requests: number;
  total: number;
  program: number;
  gc: number;
  compiler: number;
  /** Per request, each event other than instructions (cache or branch simulation), if any. */
  events: Record<string, number>;
}> {
  execFileSync('callgrind_control', ['--instr=on', String(pid)], { stdio: 'ignore' });
  const requests = await work();
  execFileSync('callgrind_control', ['--instr=off', String(pid)], { stdio: 'ignore' });
  execFileSync('callgrind_control', ['--dump', String(pid)], { stdio: 'ignore' });
  // one file per dump (`<prefix>.1`), written before callgrind_control returns
  const dumps = readdirSync(dir).filter((f) => f.startsWith(`${prefix}.`));
  const nameOf = attribute?.named ? perfMapNames(pid) : undefined;
  const sum: InstructionSplit = { total: 0, gc: 0, compiler: 0 };
  const events: Record<string, number> = {};
  for (const f of dumps) {
    const s = splitCallgrind(join(dir, f), attribute?.functions, nameOf);
    sum.total += s.total;
    sum.gc += s.gc;
    sum.compiler += s.compiler;
    for (const [name, count] of Object.entries(eventTotals(readFileSync(join(dir, f), 'utf8')))) {
      if (name !== 'Ir') events[name] = (events[name] ?? 0) + count;
    }
  }
  const per = (x: number) => Math.round(x / Math.max(1, requests));
  return {
    requests,
    total: per(sum.total),
    program: per(sum.total - sum.gc - sum.compiler),
    gc: per(sum.gc),
    compiler: per(sum.compiler),
    events: Object.fromEntries(Object.entries(events).map(([name, count]) => [name, per(count)])),
  };
}

/** A callgrind file's `events:` names with its `totals:` counts (`Ir` alone without simulation). */
export function eventTotals(text: string): Record<string, number> {
  const names = /^events: (.+)$/m.exec(text)?.[1]?.trim().split(/\s+/) ?? [];
  const counts = /^totals: (.+)$/m.exec(text)?.[1]?.trim().split(/\s+/).map(Number) ?? [];
  return Object.fromEntries(names.map((name, i) => [name, counts[i] ?? 0]));
}

/**
 * The simulated events per request as one line's tail (`; I1mr 4409, D1mr 1857, …`), empty when
 * nothing was simulated. Names as callgrind's: I1mr/D1mr/D1mw first-level misses (instruction
 * read, data read, data write), ILmr/DLmr/DLmw last-level, Bcm/Bim mispredicted conditional and
 * indirect branches (Bc/Bi: executed).
 */
export function formatEvents(events: Record<string, number>): string {
  const entries = Object.entries(events);
  return entries.length === 0 ? '' : `; ${entries.map(([name, n]) => `${name} ${n}`).join(', ')}`;
}

/** The `top` functions of `functions`, per request, as printable lines. */
export function topFunctions(functions: Map<string, number>, requests: number, top = 25): string[] {
  return [...functions]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(
      ([name, c]) => `  ${String(Math.round(c / Math.max(1, requests))).padStart(7)}  ${name.slice(0, 150)}`,
    );
}

/** Ends a counted process (SIGKILL: callgrind's own exit dump is not wanted) and waits for it. */
export async function stopCounted(child: ChildProcess): Promise<void> {
  child.kill('SIGKILL');
  if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
}
