/**
 * modern's L1-hit read in instructions per request, counted by valgrind's callgrind beside the
 * hello-world floors it is compared with (bench/bench.ts's CPU seconds move by tens of percent
 * between rounds on the shared 2-core machine; these counts repeat within a few per cent).
 * Each participant of bench.ts (bench/server.ts: same wiring, the real Strapi client, the fake
 * Strapi) runs under callgrind alone, every article is read once through it, it is warmed with
 * BENCH_WARM requests (80,000: under callgrind V8 takes that long to stop compiling; with
 * 12,000 the compilers' column was 40–75 k per request), then counted over BENCH_REQUESTS.
 * User space only: the kernel's share (the socket write) is not in it.
 *
 * Load shedding is set out of reach here (`BENCH_PRESSURE_DELAY_MS`): callgrind slows the
 * event loop fifty-fold, and @fastify/under-pressure would answer a share of the counted reads
 * 503 OVERLOADED; the plugin and its hook stay in, as deployed. A count with any non-2xx
 * answer fails the bench.
 *
 *   node bench/instructions.ts                                   # bare node:http, bare Fastify, modern L1
 *   BENCH_ONLY=modern BENCH_ATTRIBUTE=1 node bench/instructions.ts   # + top functions
 *   BENCH_KEEP=1 …                                                # keep the dumps (callgrind_annotate --tree=caller)
 *
 * Results: bench-results/pilot-modern-instructions.json. Not part of `./pilot bench`.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BenchResult, benchTarget, printTargets, writeBenchReport } from '@pilot/test-kit/bench';
import {
  countWindow,
  formatEvents,
  forkParticipant,
  stopCounted,
  topFunctions,
  valgrindAvailable,
} from '@pilot/test-kit/callgrind';
import autocannon from 'autocannon';
import { SERVICE_NODE_FLAGS } from '../../../scripts/lib/node-flags.ts';

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 6000);
const WARM = Number(process.env.BENCH_WARM ?? 80_000);
const ATTRIBUTE = process.env.BENCH_ATTRIBUTE === '1';
/** How many functions BENCH_ATTRIBUTE lists per participant. */
const TOP = Number(process.env.BENCH_TOP ?? 40);
if (!Number.isInteger(TOP) || TOP < 1) {
  throw new Error(`BENCH_TOP: expected a whole number ≥ 1, got ${process.env.BENCH_TOP}`);
}
const CONNECTIONS = 8;
const serverScript = fileURLToPath(new URL('./server.ts', import.meta.url));
const fakeScript = fileURLToPath(new URL('./fake-strapi.ts', import.meta.url));

interface Participant {
  id: string;
  label: string;
  kind: string;
  env?: Record<string, string>;
  /** Reads rotate over the fake's articles; the hello worlds answer `/`. */
  reads: boolean;
}

const PARTICIPANTS: Participant[] = [
  { id: 'bare-http', label: 'bare node:http hello world', kind: 'bare-http', reads: false },
  { id: 'bare-fastify', label: 'bare Fastify hello world', kind: 'bare-fastify', reads: false },
  {
    id: 'modern',
    label: 'modern GET /articles/:slug, L1 hit',
    kind: 'modern',
    env: { LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info', CACHE_TTL_MS: String(3_600_000) },
    reads: true,
  },
];

interface Started {
  child: ChildProcess;
  hello: Record<string, unknown>;
}

function start(script: string, args: string[], env: Record<string, string>, out?: string): Promise<Started> {
  return forkParticipant(script, args, { nodeFlags: SERVICE_NODE_FLAGS, env, out, attribute: ATTRIBUTE });
}

interface Counted extends BenchResult {
  id: string;
  name: string;
  requests: number;
  total: number;
  program: number;
  gc: number;
  compiler: number;
}

/** Drives `amount` requests at the participant; rejects on any answer but 2xx. */
async function drive(url: string, paths: readonly string[], amount: number): Promise<number> {
  let next = 0;
  const r = await autocannon({
    url,
    connections: CONNECTIONS,
    amount,
    requests: [{ setupRequest: (req) => ({ ...req, path: paths[next++ % paths.length] }) }],
  });
  const failed = Object.entries(r.statusCodeStats ?? {})
    .filter(([code]) => !code.startsWith('2'))
    .map(([code, s]) => `${code} ×${s.count}`);
  if (r.errors > 0) failed.push(`connection errors ×${r.errors}`);
  if (failed.length > 0) throw new Error(`${url}: ${failed.join(', ')}`);
  return r.requests.total;
}

async function main(): Promise<void> {
  if (!valgrindAvailable()) {
    console.error('valgrind is not installed (apt-get install valgrind): nothing counted');
    process.exitCode = 1;
    return;
  }
  const only = process.env.BENCH_ONLY?.split(',');
  const chosen = PARTICIPANTS.filter((p) => !only || only.includes(p.id));
  const dir = mkdtempSync(join(tmpdir(), 'pilot-modern-callgrind-'));
  const fake = await start(fakeScript, [], {});
  const slugs = fake.hello.slugs as string[];
  const counted: Counted[] = [];
  try {
    for (const p of chosen) {
      const began = Date.now();
      const env = {
        BENCH_STRAPI_URL: String(fake.hello.url),
        BENCH_PRESSURE_DELAY_MS: String(3_600_000),
        REDIS_URL: '',
        ...p.env,
      };
      const subject = await start(serverScript, [p.kind], env, join(dir, p.id));
      try {
        const url = String(subject.hello.url);
        const paths = p.reads ? slugs.map((s) => `/articles/${s}`) : ['/'];
        // every article once (a cold read each), then the warm-up, in two sets of connections:
        // the first closes deoptimise Node's HTTP code once, before the count
        if (p.reads) await drive(url, paths, paths.length);
        for (const amount of [WARM / 2, WARM / 2]) await drive(url, paths, amount);
        const functions = new Map<string, number>();
        const c = await countWindow(
          subject.child.pid!,
          dir,
          p.id,
          () => drive(url, paths, REQUESTS),
          ATTRIBUTE ? { functions, named: true } : undefined,
        );
        counted.push({ id: p.id, name: p.label, ...c });
        console.log(
          `${p.label.padEnd(36)} ${c.total} instructions/request (program ${c.program}, gc ${c.gc}, compiler ${c.compiler}) over ${c.requests} requests${formatEvents(c.events)} [${Math.round((Date.now() - began) / 1000)} s]`,
        );
        if (ATTRIBUTE) for (const line of topFunctions(functions, c.requests, TOP)) console.log(line);
      } finally {
        await stopCounted(subject.child);
      }
    }
  } finally {
    await stopCounted(fake.child);
    if (process.env.BENCH_KEEP === '1') console.log(`callgrind dumps kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }

  const of = (id: string) => counted.find((c) => c.id === id);
  const targets = [['bare-http', 0.7]]
    .filter(([base]) => of(base as string) && of('modern'))
    .map(([base, bound]) => {
      const floor = of(base as string)!;
      const modern = of('modern')!;
      return benchTarget(
        `modern L1-hit read × ${floor.name}, program instructions (floor / modern)`,
        Math.round((floor.program / modern.program) * 100) / 100,
        '>=',
        bound as number,
        `${floor.id} program instructions per request / modern program instructions per request (user space; requests per instruction, as the CPU bench's requests per CPU-second)`,
      );
    });
  const file = writeBenchReport({
    package: '@pilot/modern-instructions',
    setup: {
      requests: REQUESTS,
      warm: WARM,
      connections: CONNECTIONS,
      tool: 'valgrind --tool=callgrind',
      nodeFlags: SERVICE_NODE_FLAGS,
    },
    results: counted,
    targets,
  });
  console.table(counted.map(({ id, ...rest }) => rest));
  printTargets(targets);
  console.log(`written to ${file}`);
}

await main();
