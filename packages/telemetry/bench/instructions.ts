/**
 * What tracing costs, in instructions per request, counted by valgrind's callgrind: the same
 * subjects as run.ts (bench/subject.ts), each started under callgrind with instrumentation off,
 * warmed, then counted over a fixed number of requests. Instruction counts do not move with a
 * neighbour's load the way CPU seconds do on a shared 2-core machine (the same run twice agreed
 * within ~0.2 %), so this is the figure to trust for a few per cent; run.ts's CPU ratios say the
 * same thing with wide ranges.
 *
 * The count is split by where the instructions went: the program's own work (JIT code and the
 * builtins and runtime it calls), garbage collection and the JIT compilers. A major GC or a late
 * compilation landing in the counted window shows up in its column instead of blurring the
 * per-request work.
 *
 *   node bench/instructions.ts                  # gateway and modern, off / on 1 % / on 100 %
 *   BENCH_REQUESTS=6000 BENCH_WARM=15000 BENCH_ONLY=modern BENCH_MODES=off,on:0.01 node bench/instructions.ts
 *
 * Spans go to an OTLP sink in this process, every 5 s as deployed. Under callgrind the subject
 * runs ~25× slower, so an export covers ~25× fewer requests than at full speed: the export's
 * fixed cost per request is overstated here (an upper bound; the cost per span is not).
 *
 * A warm-up of 30,000 requests, over two sets of connections, lets the sampled 1 %'s own code
 * reach its optimised tiers and Node's HTTP code settle after connections first close (with
 * 15,000 over one set, recompilation was a tenth of the counted window).
 *
 * BENCH_ATTRIBUTE=1 also prints each count's top functions, JIT code named by V8's perf map
 * (`--perf-basic-prof`, test-kit's jit-names.ts): how the shape a property gave only sampled requests
 * was found (a diff of two modes' lists points at the code that changed).
 *
 * BENCH_KEEP=1 keeps the callgrind files (their folder is printed) for callgrind_annotate.
 *
 * Needs valgrind (Debian's package) and callgrind_annotate; a run takes a minute per subject
 * and mode. Not part of `./pilot bench` (that would double its time); its results go to
 * bench-results/pilot-telemetry-instructions.json.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchTarget, printTargets, writeBenchReport } from '@pilot/test-kit/bench';
import {
  callgrindArgs,
  countWindow,
  formatEvents,
  stopCounted,
  topFunctions,
  valgrindAvailable,
} from '@pilot/test-kit/callgrind';
import autocannon from 'autocannon';
import { SERVICE_NODE_FLAGS } from '../../../scripts/lib/node-flags.ts';
import { startSink } from './sink.ts';

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 6000);
const WARM = Number(process.env.BENCH_WARM ?? 30_000);
const MODES = process.env.BENCH_MODES?.split(',') ?? ['off', 'on:0.01', 'on:1'];
/** BENCH_ATTRIBUTE=1: also print the functions that took the most instructions (JIT code named). */
const ATTRIBUTE = process.env.BENCH_ATTRIBUTE === '1';
/** How many functions BENCH_ATTRIBUTE lists per count (diffing two modes needs the long tail). */
const TOP = Number(process.env.BENCH_TOP ?? 25);
const subjectFile = fileURLToPath(new URL('./subject.ts', import.meta.url));

interface Counted {
  subject: string;
  mode: string;
  requests: number;
  errors: number;
  /** Instructions per request: all, and by where they went. */
  total: number;
  program: number;
  gc: number;
  compiler: number;
  /** Simulated cache misses and branch mispredictions per request (BENCH_CALLGRIND_ARGS). */
  events: Record<string, number>;
}

function start(args: string[], underCallgrind?: string): Promise<{ child: ChildProcess; port: number }> {
  const names = ATTRIBUTE && underCallgrind ? ['--perf-basic-prof'] : [];
  const node = [process.execPath, ...SERVICE_NODE_FLAGS, ...names, subjectFile, ...args];
  const child = underCallgrind
    ? spawn('valgrind', callgrindArgs(underCallgrind, node), { stdio: ['ignore', 'pipe', 'ignore'] })
    : spawn(node[0]!, node.slice(1), { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += String(chunk);
      const match = /ready (\d+)/.exec(out);
      if (match) resolve({ child, port: Number(match[1]) });
    });
    child.once('exit', (code) => reject(new Error(`${args[0]} ${args[1] ?? ''} exited with ${code}`)));
  });
}

const hex = (n: number) =>
  Array.from({ length: n }, () => Math.floor(Math.random() * 16).toString(16)).join('');

async function count(
  subject: string,
  mode: string,
  dir: string,
  backendUrl: string,
  sinkUrl: string,
): Promise<Counted> {
  const out = join(dir, `${subject}.${mode.replace(':', '-')}`);
  const { child, port } = await start([subject, mode, subject === 'gateway' ? backendUrl : '', sinkUrl], out);
  try {
    const url = `http://127.0.0.1:${port}/articles/${subject === 'gateway' ? 'hello-world' : 'alpha'}`;
    // behind the gateway, modern gets the gateway's decision (the share the mode samples)
    const ratio = mode === 'off' ? 0 : Number(mode.split(':')[1]);
    const requests: autocannon.Request[] | undefined =
      subject === 'modern'
        ? [
            {
              setupRequest: (req) => ({
                ...req,
                headers: {
                  ...req.headers,
                  traceparent: `00-${hex(32)}-${hex(16)}-${Math.random() < ratio ? '01' : '00'}`,
                },
              }),
            },
          ]
        : undefined;
    // in two runs, so connections have closed once before the count: the first closes change
    // the maps of Node's sockets and deoptimise its HTTP code, and the re-optimisation would
    // otherwise land in the counted window (a service sees connections come and go all along)
    for (const amount of [WARM / 2, WARM / 2]) {
      await autocannon({ url, connections: 8, amount, ...(requests ? { requests } : {}) });
    }
    const functions = new Map<string, number>();
    let errors = 0;
    const counted = await countWindow(
      child.pid!,
      dir,
      `${subject}.${mode.replace(':', '-')}`,
      async () => {
        const result = await autocannon({
          url,
          connections: 8,
          amount: REQUESTS,
          ...(requests ? { requests } : {}),
        });
        errors = result.errors + result.non2xx;
        return result.requests.total;
      },
      ATTRIBUTE ? { functions, named: true } : undefined,
    );
    if (ATTRIBUTE) {
      console.log(`${subject} ${mode}: instructions per request by function (self)`);
      for (const line of topFunctions(functions, counted.requests, TOP)) console.log(line);
    }
    return { subject, mode, errors, ...counted };
  } finally {
    await stopCounted(child);
  }
}

async function main(): Promise<void> {
  if (!valgrindAvailable()) {
    console.error('valgrind is not installed (apt-get install valgrind): nothing counted');
    process.exitCode = 1;
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'pilot-callgrind-'));
  const backend = await start(['backend']);
  const sink = await startSink();
  const subjects = ['gateway', 'modern'].filter(
    (s) => !process.env.BENCH_ONLY || s === process.env.BENCH_ONLY,
  );
  const counted: Counted[] = [];
  try {
    for (const subject of subjects) {
      for (const mode of MODES) {
        const started = Date.now();
        const c = await count(subject, mode, dir, `http://127.0.0.1:${backend.port}`, sink.url);
        counted.push(c);
        console.log(
          `${subject.padEnd(8)} ${mode.padEnd(8)} ${c.total} instructions/request (program ${c.program}, gc ${c.gc}, compiler ${c.compiler}) over ${c.requests} requests${formatEvents(c.events)}${c.errors ? `, ${c.errors} errors` : ''} [${Math.round((Date.now() - started) / 1000)} s]`,
        );
      }
    }
  } finally {
    await stopCounted(backend.child);
    sink.close();
    if (process.env.BENCH_KEEP) console.log(`callgrind files kept in ${dir} (callgrind_annotate <file>)`);
    else rmSync(dir, { recursive: true, force: true });
  }
  const of = (subject: string, mode: string) => counted.find((c) => c.subject === subject && c.mode === mode);
  const targets = subjects.flatMap((subject) => {
    const off = of(subject, 'off');
    const on = of(subject, 'on:0.01');
    if (!off || !on) return [];
    return [
      benchTarget(
        `${subject}: tracing on at 1 % sampling, extra instructions per request (the program's own)`,
        Math.round((on.program / off.program - 1) * 1000) / 10,
        '<=',
        5,
        `percent: ${subject}'s instructions per request on at 1 % / off, GC and JIT compilers left out, minus 1`,
      ),
    ];
  });
  const file = writeBenchReport({
    package: '@pilot/telemetry-instructions',
    setup: {
      requests: REQUESTS,
      warm: WARM,
      tool: 'valgrind --tool=callgrind',
      nodeFlags: SERVICE_NODE_FLAGS,
    },
    results: counted.map((c) => ({ name: `${c.subject} ${c.mode}`, ...c })),
    targets,
  });
  console.table(counted);
  printTargets(targets);
  console.log(`written to ${file}`);
}

await main();
