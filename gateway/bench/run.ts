import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

/**
 * `pnpm bench`: the gateway's throughput as a ratio of hitting the backend directly, and its
 * added p50/p99, side by side with two bare proxies in the same run: http-proxy-middleware on
 * node:http with nothing else, and @fastify/http-proxy (undici). Every participant runs in its
 * own process on 127.0.0.1; each measurement is bounded in time (BENCH_SECONDS, default 3), in
 * BENCH_ROUNDS (default 3) interleaved rounds whose medians are reported.
 *
 * The shadow's cost is measured in the same run: the served route's throughput and p99 with
 * shadowing off and on (every GET mirrored to a second backend process and compared), both
 * gateways with the access log off. Targets: throughput drop ≤ 25%, p99 growth ≤ 10%.
 * BENCH_ONLY=shadow runs just that pair.
 *
 *   BENCH_SECONDS=10 BENCH_CONNECTIONS=64 pnpm --filter @pilot/gateway bench
 */
const seconds = Number(process.env.BENCH_SECONDS ?? 3);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 32);
const warmup = Number(process.env.BENCH_WARMUP_SECONDS ?? 1);
const only = process.env.BENCH_ONLY;
const serversFile = fileURLToPath(new URL('./servers.ts', import.meta.url));
const children: ChildProcess[] = [];

function spawn(role: string, ...targets: string[]): Promise<{ child: ChildProcess; url: string }> {
  const child = fork(serversFile, [role, ...targets], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`${role} exited with ${code}`)));
    child.once('message', (m) => {
      const port = String(m).split(' ')[1];
      resolve({ child, url: `http://127.0.0.1:${port}` });
    });
  });
}

async function load(url: string, duration: number) {
  return autocannon({ url, connections, pipelining: 1, duration, method: 'GET' });
}

interface Row {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
  /** CPU time (user + system) the participant spent per request, in µs. */
  cpuUs: number;
}

function cpu(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    const on = (m: unknown) => {
      const s = String(m);
      if (!s.startsWith('cpu ')) return;
      child.off('message', on);
      resolve(Number(s.slice(4)));
    };
    child.on('message', on);
    child.send('cpu');
  });
}

async function measure(name: string, url: string, child: ChildProcess): Promise<Row> {
  if (warmup > 0) await load(url, warmup);
  const before = await cpu(child);
  const r = await load(url, seconds);
  const used = (await cpu(child)) - before;
  return {
    name,
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors + r.non2xx,
    cpuUs: used / Math.max(1, r.requests.total),
  };
}

function shadowNumbers(
  child: ChildProcess,
): Promise<
  Record<string, { mirrored: number; matched: number; mismatched: number; dropped: Record<string, number> }>
> {
  return new Promise((resolve) => {
    const on = (m: unknown) => {
      const s = String(m);
      if (!s.startsWith('shadow ')) return;
      child.off('message', on);
      resolve(JSON.parse(s.slice(7)));
    };
    child.on('message', on);
    child.send('shadow');
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

try {
  const backend = await spawn('backend');
  const path = '/articles/hello-world';
  const participants = [
    { role: 'backend', label: 'backend directly', url: backend.url, child: backend.child },
  ];
  const main =
    only === 'shadow'
      ? []
      : ([
          ['bare-hpm', 'bare http-proxy-middleware (node:http)'],
          ['fastify-http-proxy', 'bare @fastify/http-proxy (undici)'],
          ['gateway-no-log', 'gateway, access log off'],
          ['gateway', 'gateway, full (access log on)'],
        ] as const);
  for (const [role, label] of main) {
    const p = await spawn(role, backend.url);
    participants.push({ role, label, url: p.url, child: p.child });
  }
  // the shadow target is a backend of its own, as a real second service would be
  const shadowTarget = await spawn('backend');
  for (const [role, label] of [
    ['gateway-shadow-off', 'gateway, shadow off (log off)'],
    ['gateway-shadow-on', 'gateway, shadow on (log off)'],
  ] as const) {
    const p = await spawn(role, backend.url, shadowTarget.url);
    participants.push({ role, label, url: p.url, child: p.child });
  }
  // interleaved rounds, median of each: a busy machine's noise hits everyone alike
  const runs = new Map<string, Row[]>();
  for (let round = 0; round < rounds; round++) {
    for (const p of participants) {
      const row = await measure(p.label, p.url + path, p.child);
      runs.set(p.label, [...(runs.get(p.label) ?? []), row]);
    }
  }
  const rows: Row[] = participants.map((p) => {
    const list = runs.get(p.label)!;
    return {
      name: p.label,
      rps: median(list.map((r) => r.rps)),
      p50: median(list.map((r) => r.p50)),
      p99: median(list.map((r) => r.p99)),
      errors: list.reduce((a, r) => a + r.errors, 0),
      cpuUs: median(list.map((r) => r.cpuUs)),
    };
  });
  const byRole = (role: string) => rows[participants.findIndex((p) => p.role === role)];
  const direct = rows[0]!;
  const hpm = byRole('bare-hpm') ?? direct;
  const fst = byRole('fastify-http-proxy') ?? direct;
  const pad = (s: string | number, n: number) => String(s).padStart(n);
  console.log(
    `\n${rounds} interleaved rounds × ${seconds}s per participant (medians), ${connections} connections, GET ${path}, node ${process.version}\n`,
  );
  console.log(
    `${'participant'.padEnd(40)}${pad('req/s', 10)}${pad('×direct', 9)}${pad('×hpm', 7)}${pad('×fastify', 10)}${pad('p50 ms', 8)}${pad('p99 ms', 8)}${pad('+p50', 7)}${pad('+p99', 7)}${pad('errors', 8)}${pad('CPU µs/req', 12)}${pad('CPU ×hpm', 10)}`,
  );
  for (const r of rows) {
    console.log(
      `${r.name.padEnd(40)}${pad(Math.round(r.rps), 10)}${pad((r.rps / direct.rps).toFixed(3), 9)}${pad((r.rps / hpm.rps).toFixed(2), 7)}${pad((r.rps / fst.rps).toFixed(2), 10)}${pad(r.p50, 8)}${pad(r.p99, 8)}${pad(r.p50 - direct.p50, 7)}${pad(r.p99 - direct.p99, 7)}${pad(r.errors, 8)}${pad(r.cpuUs.toFixed(1), 12)}${pad((r.cpuUs / hpm.cpuUs).toFixed(2), 10)}`,
    );
  }
  console.log(
    "\nCPU µs/req is the participant's own CPU time per request (that process only): on a busy machine\n" +
      'it is the steadier comparison (req/s assumes the cores are free; lower CPU ×hpm is better).',
  );
  const gw = byRole('gateway');
  if (gw) {
    console.log(
      `\ngateway: ${(gw.rps / direct.rps).toFixed(3)}× the backend alone, ${(gw.rps / hpm.rps).toFixed(2)}× bare http-proxy-middleware (target ≥ 0.9), ${(gw.rps / fst.rps).toFixed(2)}× bare @fastify/http-proxy (stretch ≥ 1.0); adds ${gw.p50 - direct.p50} ms p50, ${gw.p99 - direct.p99} ms p99; CPU per request ${(gw.cpuUs / hpm.cpuUs).toFixed(2)}× bare http-proxy-middleware`,
    );
  }
  const off = byRole('gateway-shadow-off')!;
  const on = byRole('gateway-shadow-on')!;
  const onChild = participants.find((p) => p.role === 'gateway-shadow-on')!.child;
  const served = (await shadowNumbers(onChild)).served;
  const drop = 1 - on.rps / off.rps;
  const growth = on.p99 / Math.max(off.p99, 0.001) - 1;
  console.log(
    `\nshadow cost on the served route: throughput ${Math.round(off.rps)} → ${Math.round(on.rps)} req/s (drop ${(drop * 100).toFixed(1)}%, target ≤ 25%: ${drop <= 0.25 ? 'met' : 'NOT met'}), p99 ${off.p99} → ${on.p99} ms (${growth >= 0 ? '+' : ''}${(growth * 100).toFixed(1)}%, target ≤ 10%: ${growth <= 0.1 ? 'met' : 'NOT met'}); CPU per request ${off.cpuUs.toFixed(1)} → ${on.cpuUs.toFixed(1)} µs (the gateway's own process)`,
  );
  if (served) {
    const dropped = Object.values(served.dropped).reduce((a, b) => a + b, 0);
    console.log(
      `mirrors over the whole run: ${served.mirrored} mirrored (${served.matched} matched, ${served.mismatched} mismatched), ${dropped} dropped at the in-flight limit (never queued: the client never waits for a mirror)`,
    );
  }
} finally {
  for (const c of children) c.kill('SIGTERM');
}
