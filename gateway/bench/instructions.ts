/**
 * The gateway's cost in instructions per request, counted by valgrind's callgrind, beside the
 * bare proxies it is compared with: the figure that does not move with a neighbour's load
 * (bench/run.ts's CPU seconds moved by 20-50 % between rounds on the shared 2-core machine).
 * Each participant of run.ts (bench/servers.ts: same roles, same table, same access log) runs
 * under callgrind alone, is warmed with 20,000 requests over two sets of connections, then
 * counted over BENCH_REQUESTS (6,000). User space only: system calls are not counted, so the
 * ratios hold where the processes make the same calls per request (strace -c: one writev, one
 * write and two reads each for the plain route, HPM and the bare proxy).
 *
 *   node bench/instructions.ts                     # node floor, HPM, @fastify/http-proxy, gateway plain / fallback / shadowed
 *   BENCH_ONLY=hpm,plain BENCH_ATTRIBUTE=1 node bench/instructions.ts   # + top functions
 *
 * A minute or two per participant; not part of `./pilot bench`. Results, with the targets the
 * CPU bench has, counted in instructions: bench-results/pilot-gateway-instructions.json.
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
import { SERVICE_NODE_FLAGS } from '../../scripts/lib/node-flags.ts';

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 6000);
const WARM = Number(process.env.BENCH_WARM ?? 20_000);
const ATTRIBUTE = process.env.BENCH_ATTRIBUTE === '1';
const serversFile = fileURLToPath(new URL('./servers.ts', import.meta.url));

interface Participant {
  id: string;
  label: string;
  role: string;
  path: string;
}

const PARTICIPANTS: Participant[] = [
  { id: 'node', label: 'bare node:http proxy (the floor)', role: 'bare-node', path: '/plain/hello-world' },
  { id: 'hpm', label: 'bare http-proxy-middleware', role: 'bare-hpm', path: '/plain/hello-world' },
  {
    id: 'fastify',
    label: 'bare @fastify/http-proxy',
    role: 'fastify-http-proxy',
    path: '/plain/hello-world',
  },
  { id: 'plain', label: 'gateway, plain route', role: 'gateway', path: '/plain/hello-world' },
  {
    id: 'plain-no-log',
    label: 'gateway, plain, access log off',
    role: 'gateway-no-log',
    path: '/plain/hello-world',
  },
  { id: 'fallback', label: 'gateway, fallback route', role: 'gateway', path: '/fallback/hello-world' },
  { id: 'shadowed', label: 'gateway, shadowed route', role: 'gateway', path: '/shadowed/hello-world' },
];

/** A participant of servers.ts (its IPC says `ready <port>`), under callgrind when `out` is given. */
async function start(
  role: string,
  args: string[],
  out?: string,
): Promise<{ child: ChildProcess; url: string }> {
  const { child, hello } = await forkParticipant<string>(serversFile, [role, ...args], {
    nodeFlags: SERVICE_NODE_FLAGS,
    // timers and deadlines misfire on callgrind's clock (see servers.ts); they are not per request
    env: out ? { BENCH_HEALTH_CHECKS: '0' } : {},
    out,
    attribute: ATTRIBUTE,
  });
  return { child, url: `http://127.0.0.1:${String(hello).split(' ')[1]}` };
}

/** What the shadow did over the participant's life: a slow mirror would cost the error path instead. */
function shadowSummary(child: ChildProcess): Promise<string> {
  return new Promise((resolve) => {
    child.on('message', function on(m) {
      if (!String(m).startsWith('shadow ')) return;
      child.off('message', on);
      const s = JSON.parse(String(m).slice(7)).shadowed ?? {};
      resolve(
        JSON.stringify({
          mirrored: s.mirrored,
          matched: s.matched,
          notCompared: s.notCompared,
          dropped: s.dropped,
        }),
      );
    });
    child.send('shadow');
  });
}

interface Counted extends BenchResult {
  id: string;
  name: string;
  requests: number;
  errors: number;
  total: number;
  program: number;
  gc: number;
  compiler: number;
}

async function main(): Promise<void> {
  if (!valgrindAvailable()) {
    console.error('valgrind is not installed (apt-get install valgrind): nothing counted');
    process.exitCode = 1;
    return;
  }
  const only = process.env.BENCH_ONLY?.split(',');
  const chosen = PARTICIPANTS.filter((p) => !only || only.includes(p.id));
  const dir = mkdtempSync(join(tmpdir(), 'pilot-gateway-callgrind-'));
  const backend = await start('backend', []);
  const mirror = await start('backend', []);
  const counted: Counted[] = [];
  try {
    for (const p of chosen) {
      const started = Date.now();
      const subject = await start(p.role, [backend.url, mirror.url], join(dir, p.id));
      try {
        const url = subject.url + p.path;
        // two sets of connections: the first closes deoptimise Node's HTTP code once, before the count
        for (const amount of [WARM / 2, WARM / 2]) await autocannon({ url, connections: 8, amount });
        const functions = new Map<string, number>();
        let errors = 0;
        let failures = '';
        const c = await countWindow(
          subject.child.pid!,
          dir,
          p.id,
          async () => {
            const r = await autocannon({ url, connections: 8, amount: REQUESTS });
            errors = r.errors + r.non2xx;
            // what failed, so a count with errors can be told from a slow start or a real fault
            const statuses = Object.entries(r.statusCodeStats ?? {})
              .filter(([code]) => !code.startsWith('2'))
              .map(([code, s]) => `${code} ×${s.count}`);
            if (r.errors > 0) statuses.push(`connection errors ×${r.errors} (timeouts ×${r.timeouts})`);
            failures = statuses.join(', ');
            return r.requests.total;
          },
          ATTRIBUTE ? { functions, named: true } : undefined,
        );
        counted.push({ id: p.id, name: p.label, errors, ...c });
        console.log(
          `${p.label.padEnd(36)} ${c.total} instructions/request (program ${c.program}, gc ${c.gc}, compiler ${c.compiler}) over ${c.requests} requests${formatEvents(c.events)}${errors ? `, ${errors} errors (${failures})` : ''} [${Math.round((Date.now() - started) / 1000)} s]`,
        );
        if (ATTRIBUTE) for (const line of topFunctions(functions, c.requests)) console.log(line);
        if (p.id === 'shadowed') console.log(`  mirrors: ${await shadowSummary(subject.child)}`);
      } finally {
        await stopCounted(subject.child);
      }
    }
  } finally {
    await stopCounted(backend.child);
    await stopCounted(mirror.child);
    rmSync(dir, { recursive: true, force: true });
  }

  const of = (id: string) => counted.find((c) => c.id === id);
  const ratio = (id: string, base: string) => {
    const a = of(id);
    const b = of(base);
    return a && b ? Math.round((a.total / b.total) * 100) / 100 : null;
  };
  const divides = (id: string, base: string) =>
    `${id} instructions per request (user space, all threads) / ${base} instructions per request`;
  const targets = [
    ['plain route, access log on × bare http-proxy-middleware', 'plain', 'hpm', 1],
    ['fallback route × bare http-proxy-middleware', 'fallback', 'hpm', 1.1],
    ['shadowed route (mirror and diff included) × bare http-proxy-middleware', 'shadowed', 'hpm', 1.5],
    ['stretch: plain route × bare @fastify/http-proxy', 'plain', 'fastify', 1],
  ]
    .filter(([, id, base]) => of(id as string) && of(base as string))
    .map(([name, id, base, bound]) =>
      benchTarget(
        `gateway ${name} (instructions)`,
        ratio(id as string, base as string),
        '<=',
        bound as number,
        divides(id as string, base as string),
      ),
    );
  const file = writeBenchReport({
    package: '@pilot/gateway-instructions',
    setup: {
      requests: REQUESTS,
      warm: WARM,
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
