import { type ChildProcess, fork } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import {
  type BenchResult,
  type BenchTarget,
  benchTarget,
  pinnableCores,
  pinToCores,
  writeBenchReport,
} from '@pilot/test-kit/bench';
import autocannon from 'autocannon';
import { SERVICE_NODE_FLAGS } from '../../scripts/lib/node-flags.ts';

/**
 * `pnpm bench`: what the gateway costs per request next to two bare proxies, in one run.
 *
 * Participants, each its own process on 127.0.0.1: a tiny backend (hit directly: the floor),
 * bare http-proxy-middleware on node:http, bare @fastify/http-proxy (undici), and the gateway
 * with its access log on (as deployed) serving one table with a route of each kind — `plain`
 * (one backend: the fast path), `fallback` (a fallback backend that a healthy primary never
 * needs) and `shadowed` (every GET mirrored to a second backend process and diffed) — plus the
 * gateway with the access log off on the plain route, to show what the log costs. `limited`: the
 * plain route under a rate limit no load reaches (every request counted: the step's cost), with
 * the counters in the process and, in a second gateway process, in Redis (REDIS_URL).
 *
 * The figure that survives a busy machine is CPU per request: the participant's own CPU time
 * (user + system, all its threads) over a load period, divided by the requests answered in it.
 * BENCH_ROUNDS (default 5) interleaved rounds (each starting one row further on) of BENCH_SECONDS (default 3) per measurement;
 * medians reported, ratios taken within the run. Where `taskset` works (≥ 2 cores) the proxies
 * run on one core and the backends and the load generator (this process) on the other
 * (BENCH_PIN=0: not pinned). Results also go to bench-results/pilot-gateway.json.
 *
 *   BENCH_SECONDS=10 BENCH_ROUNDS=7 BENCH_CONNECTIONS=32 pnpm --filter @pilot/gateway bench
 */
const seconds = Number(process.env.BENCH_SECONDS ?? 3);
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 32);
const warmup = Number(process.env.BENCH_WARMUP_SECONDS ?? 1);
/** A comma-separated subset of the measurements' ids, for a quick look (hpm is always kept). */
const only = process.env.BENCH_ONLY?.split(',');
/** BENCH_VERBOSE=1: every round's figures too. */
const verbose = process.env.BENCH_VERBOSE === '1';
const serversFile = fileURLToPath(new URL('./servers.ts', import.meta.url));
const children: ChildProcess[] = [];

const cores = process.env.BENCH_PIN === '0' ? [] : pinnableCores();
const proxyCore = cores[0];
const otherCore = cores[1];
const pinned = cores.length >= 2 && pinToCores(process.pid, String(otherCore));

function spawn(role: string, core: number | undefined, ...targets: string[]) {
  const child = fork(serversFile, [role, ...targets], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    // every participant with the flags the services ship with
    execArgv: [...process.execArgv, ...SERVICE_NODE_FLAGS],
  });
  children.push(child);
  if (pinned && core !== undefined && child.pid) pinToCores(child.pid, String(core));
  return new Promise<{ child: ChildProcess; url: string }>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`${role} exited with ${code}`)));
    child.once('message', (m) => resolve({ child, url: `http://127.0.0.1:${String(m).split(' ')[1]}` }));
  });
}

function ask(child: ChildProcess, what: string): Promise<string> {
  return new Promise((resolve) => {
    const on = (m: unknown) => {
      const s = String(m);
      if (!s.startsWith(`${what} `)) return;
      child.off('message', on);
      resolve(s.slice(what.length + 1));
    };
    child.on('message', on);
    child.send(what);
  });
}

interface Run {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  /** The participant's CPU time per request, µs. */
  cpuUs: number;
  /** The part of it spent off the main thread (GC helpers, libuv's pool), µs. */
  otherThreadsUs: number;
  /** Its CPU time over wall time: ~1 means it was saturated (one event loop). */
  cores: number;
  /** The load generator's (this process's) CPU over wall time. */
  generatorCores: number;
  rssMb: number;
}

/** A measurement's medians over the rounds. */
interface Row extends BenchResult {
  id: string;
  name: string;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  cpuUs: number;
  otherThreadsUs: number;
  cpuVsHpm: number;
  cpuVsFastify: number;
  cores: number;
  generatorCores: number;
  rssMb: number;
}

interface Measurement {
  id: string;
  label: string;
  child: ChildProcess;
  url: string;
}

async function measure(m: Measurement): Promise<Run> {
  if (warmup > 0) await autocannon({ url: m.url, connections, duration: warmup });
  const [before, mainBefore] = (await ask(m.child, 'cpu')).split(' ').map(Number) as [number, number];
  const gen = process.cpuUsage();
  const started = performance.now();
  let rss = 0;
  // RSS under load: the largest of a few samples during the run
  const sampler = setInterval(() => {
    void ask(m.child, 'rss').then((v) => {
      rss = Math.max(rss, Number(v));
    });
  }, 500);
  const r = await autocannon({ url: m.url, connections, duration: seconds });
  clearInterval(sampler);
  const wall = (performance.now() - started) / 1000;
  const [after, mainAfter] = (await ask(m.child, 'cpu')).split(' ').map(Number) as [number, number];
  const used = after - before;
  const main = mainAfter - mainBefore;
  const g = process.cpuUsage(gen);
  rss = Math.max(rss, Number(await ask(m.child, 'rss')));
  return {
    rps: r.requests.total / wall,
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors + r.timeouts + r.non2xx,
    cpuUs: used / Math.max(1, r.requests.total),
    otherThreadsUs: (used - main) / Math.max(1, r.requests.total),
    cores: used / 1e6 / wall,
    generatorCores: (g.user + g.system) / 1e6 / wall,
    rssMb: rss / 2 ** 20,
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round2 = (n: number) => Math.round(n * 100) / 100;

try {
  const backend = await spawn('backend', otherCore);
  const mirror = await spawn('backend', otherCore);
  const bare = await spawn('bare-node', proxyCore, backend.url);
  const hpm = await spawn('bare-hpm', proxyCore, backend.url);
  const fst = await spawn('fastify-http-proxy', proxyCore, backend.url);
  const gw = await spawn('gateway', proxyCore, backend.url, mirror.url);
  const gwNoLog = await spawn('gateway-no-log', proxyCore, backend.url, mirror.url);
  const gwRedis = await spawn('gateway-redis', proxyCore, backend.url, mirror.url);
  const path = '/hello-world';
  const all: Measurement[] = [
    { id: 'direct', label: 'backend directly', ...backend, url: backend.url + path },
    { id: 'node', label: 'bare node:http proxy (the floor)', ...bare, url: `${bare.url}/plain${path}` },
    { id: 'hpm', label: 'bare http-proxy-middleware (node:http)', ...hpm, url: `${hpm.url}/plain${path}` },
    { id: 'fastify', label: 'bare @fastify/http-proxy (undici)', ...fst, url: `${fst.url}/plain${path}` },
    { id: 'plain', label: 'gateway, plain route', ...gw, url: `${gw.url}/plain${path}` },
    { id: 'fallback', label: 'gateway, fallback route', ...gw, url: `${gw.url}/fallback${path}` },
    { id: 'shadowed', label: 'gateway, shadowed route', ...gw, url: `${gw.url}/shadowed${path}` },
    {
      id: 'plain-no-log',
      label: 'gateway, plain, access log off',
      ...gwNoLog,
      url: `${gwNoLog.url}/plain${path}`,
    },
    { id: 'limited', label: 'gateway, rate-limited (in process)', ...gw, url: `${gw.url}/limited${path}` },
    {
      id: 'limited-redis',
      label: 'gateway, rate-limited (Redis)',
      ...gwRedis,
      url: `${gwRedis.url}/limited${path}`,
    },
  ];
  const measurements = only
    ? all.filter((m) => m.id === 'hpm' || m.id === 'fastify' || m.id === 'node' || only.includes(m.id))
    : all;
  console.log(
    `bench: ${rounds} interleaved rounds × ${seconds}s per measurement (medians), ${connections} connections, ` +
      `warm-up ${warmup}s, GET ${path}, node ${process.version}; ` +
      (pinned
        ? `proxies pinned to core ${proxyCore}, backends and load generator to core ${otherCore}`
        : 'not pinned: proxies, backends and load generator share the cores'),
  );
  const runs = new Map<string, Run[]>();
  for (let round = 1; round <= rounds; round++) {
    // each round starts one place further on: no row always comes first after its process idled
    // (the gateway's rows share one process, so a fixed order billed its re-warming to `plain`)
    const order = measurements.map((_, i) => measurements[(i + round - 1) % measurements.length]!);
    for (const m of order) {
      const run = await measure(m);
      runs.set(m.id, [...(runs.get(m.id) ?? []), run]);
      if (verbose) {
        console.log(
          `  ${m.id}: ${Math.round(run.rps)} req/s, ${run.cpuUs.toFixed(1)} µs/req (${run.otherThreadsUs.toFixed(1)} off-main), ${run.cores.toFixed(2)} cores, RSS ${run.rssMb.toFixed(0)} MB`,
        );
      }
    }
    console.log(`round ${round}/${rounds} done`);
  }
  const rows = measurements.map((m): Row => {
    const list = runs.get(m.id)!;
    const med = (f: (r: Run) => number) => median(list.map(f));
    return {
      id: m.id,
      name: m.label,
      rps: Math.round(med((r) => r.rps)),
      p50: med((r) => r.p50),
      p99: med((r) => r.p99),
      errors: list.reduce((a, r) => a + r.errors, 0),
      cpuUs: round2(med((r) => r.cpuUs)),
      otherThreadsUs: round2(med((r) => r.otherThreadsUs)),
      // per-round ratios to bare hpm: each pairs numbers taken minutes, not a whole run, apart
      cpuVsHpm: round2(median(list.map((r, i) => r.cpuUs / runs.get('hpm')![i]!.cpuUs))),
      cpuVsFastify: round2(median(list.map((r, i) => r.cpuUs / runs.get('fastify')![i]!.cpuUs))),
      cores: round2(med((r) => r.cores)),
      generatorCores: round2(med((r) => r.generatorCores)),
      rssMb: round2(Math.max(...list.map((r) => r.rssMb))),
    };
  });
  const pad = (s: string | number, n: number) => String(s).padStart(n);
  console.log(
    `\n${'measurement'.padEnd(40)}${pad('req/s', 8)}${pad('p50', 6)}${pad('p99', 6)}${pad('errors', 8)}${pad('CPU µs/req', 12)}${pad('off-main', 10)}${pad('×hpm', 7)}${pad('×fastify', 10)}${pad('cores', 7)}${pad('gen', 6)}${pad('RSS MB', 8)}`,
  );
  for (const r of rows) {
    console.log(
      `${r.name.padEnd(40)}${pad(r.rps, 8)}${pad(r.p50, 6)}${pad(r.p99, 6)}${pad(r.errors, 8)}${pad(r.cpuUs.toFixed(1), 12)}${pad(r.otherThreadsUs.toFixed(1), 10)}${pad(r.cpuVsHpm.toFixed(2), 7)}${pad(r.cpuVsFastify.toFixed(2), 10)}${pad(r.cores.toFixed(2), 7)}${pad(r.generatorCores.toFixed(2), 6)}${pad(r.rssMb.toFixed(0), 8)}`,
    );
  }
  console.log(
    "\nCPU µs/req: the process's own CPU time per request (off-main: the part on other threads: GC, libuv's pool); ×hpm and ×fastify: the median of each round's ratio\n" +
      "to that round's bare proxy. cores: the participant's CPU over wall time (≈1: saturated); gen: the load generator's.\n" +
      'RSS MB: the largest resident set seen under load (the gateway rows share one process).',
  );

  const perReq = (id: string, base: string) => `${id} CPU µs per request / ${base} CPU µs per request`;
  const notRun = 'not measured in this run (BENCH_ONLY)';
  /** A row's figure, or null when BENCH_ONLY left the row out. */
  const figure = (id: string, f: (r: Row) => number) => {
    const r = rows.find((x) => x.id === id);
    return r ? f(r) : null;
  };
  const target = (
    name: string,
    value: number | null,
    bound: number,
    divides: string,
    note?: string,
  ): BenchTarget => benchTarget(name, value, '<=', bound, divides, value === null ? notRun : note);
  /** Rows whose process was not saturated: their CPU per request is inflated (idle wake-ups). */
  const unsaturated = rows.filter((r) => r.id !== 'direct' && r.cores < 0.8).map((r) => r.id);
  if (unsaturated.length > 0) {
    console.log(
      `\nnot saturated (< 0.8 cores, the machine was busy): ${unsaturated.join(', ')}; their CPU per request is inflated, so ratios involving them lean that way`,
    );
  }
  const plainRps = figure('plain', (r) => r.rps);
  /** The median of each round's CPU-per-request ratio of two measurements, minus 1. */
  const costOver = (id: string, base: string) => {
    const a = runs.get(id);
    const b = runs.get(base);
    return a && b ? round2(median(a.map((r, i) => r.cpuUs / b[i]!.cpuUs)) - 1) : null;
  };
  const shadowedRps = figure('shadowed', (r) => r.rps);
  const targets: BenchTarget[] = [
    target(
      'gateway plain route, access log on: CPU per request × bare http-proxy-middleware',
      figure('plain', (r) => r.cpuVsHpm),
      1.0,
      perReq('gateway /plain', 'bare http-proxy-middleware'),
    ),
    target(
      'gateway fallback route: CPU per request × bare http-proxy-middleware',
      figure('fallback', (r) => r.cpuVsHpm),
      1.1,
      perReq('gateway /fallback', 'bare http-proxy-middleware'),
    ),
    target(
      'gateway shadowed route: CPU per request × bare http-proxy-middleware',
      figure('shadowed', (r) => r.cpuVsHpm),
      1.5,
      perReq('gateway /shadowed (mirror and diff included)', 'bare http-proxy-middleware'),
    ),
    target(
      'stretch: gateway plain route: CPU per request × bare @fastify/http-proxy',
      figure('plain', (r) => r.cpuVsFastify),
      1.0,
      perReq('gateway /plain', 'bare @fastify/http-proxy'),
    ),
    target(
      'shadow cost: throughput drop, shadowed vs plain route',
      plainRps !== null && shadowedRps !== null ? round2(1 - shadowedRps / plainRps) : null,
      0.25,
      '1 − (gateway /shadowed req/s / gateway /plain req/s), same process, same run',
      'req/s assumes free cores; on a shared machine the CPU ratios above are the steadier figures',
    ),
    target(
      'rate limit cost, in-process counters: CPU per request, limited vs plain route',
      costOver('limited', 'plain'),
      0.05,
      'gateway /limited CPU µs per request / gateway /plain CPU µs per request − 1, same process, per round',
    ),
  ];
  const redisCost = costOver('limited-redis', 'plain');
  if (redisCost !== null) {
    console.log(
      `rate limit with Redis counters: CPU per request ${redisCost >= 0 ? '+' : ''}${(redisCost * 100).toFixed(0)}% over the plain route (a round trip per request; no target)`,
    );
  }
  console.log('\ntargets');
  for (const t of targets) {
    console.log(
      `  ${t.met ? 'met    ' : 'NOT met'}  ${t.name}: ${t.value ?? '-'} (${t.comparison} ${t.target})`,
    );
  }
  const rss = (id: string) => figure(id, (r) => r.rssMb)?.toFixed(0) ?? '-';
  console.log(
    `gateway RSS under load: ${rss('plain')} MB (bare http-proxy-middleware ${rss('hpm')} MB, @fastify/http-proxy ${rss('fastify')} MB)`,
  );
  const shadow = JSON.parse(await ask(gw.child, 'shadow')) as Record<
    string,
    { mirrored: number; matched: number; mismatched: number; dropped: Record<string, number> }
  >;
  const s = shadow.shadowed;
  if (s) {
    const dropped = Object.values(s.dropped).reduce((a, b) => a + b, 0);
    console.log(
      `mirrors over the whole run: ${s.mirrored} mirrored (${s.matched} matched, ${s.mismatched} mismatched), ${dropped} dropped at the in-flight limit`,
    );
  }
  const file = writeBenchReport({
    package: '@pilot/gateway',
    setup: {
      rounds,
      seconds,
      warmupSeconds: warmup,
      connections,
      path,
      pinned,
      ...(pinned ? { proxyCore, generatorCore: otherCore } : {}),
      /** Measurements whose process ran below 0.8 cores: their CPU per request is inflated. */
      unsaturated,
      mirrors: s ?? null,
    },
    results: rows,
    targets,
  });
  console.log(`\nresults: ${file}`);
} finally {
  for (const c of children) c.kill('SIGTERM');
}
