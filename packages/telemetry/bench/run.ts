/**
 * What tracing costs, in CPU per request of the process that does the work: the real gateway
 * (in front of a trivial backend) and the real modern app (cached reads through the Strapi
 * client), each with tracing off, on at 1 % and 100 % sampling (this package's choice), and
 * with the official http instrumentation instead (auto) — the comparison behind the README's
 * "manual or auto" table.
 *
 * Each subject runs in its own process pinned to one core; autocannon (this process) and the
 * backend share the other. CPU comes from /proc (user + system) over a fixed-length run, and
 * rounds interleave the modes so a neighbour's burst hits them alike. Numbers are noisy on a
 * shared 2-core machine: read the medians, and the spread next to them.
 *
 *   node bench/run.ts                   # both subjects, 3 rounds of 4 s per mode
 *   BENCH_SECONDS=8 BENCH_ROUNDS=5 node bench/run.ts
 *   BENCH_ONLY=gateway node bench/run.ts
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import {
  benchTarget,
  pinnableCores,
  pinToCores,
  procCpuSeconds,
  writeBenchReport,
} from '@pilot/test-kit/bench';
import autocannon from 'autocannon';
import { offPathCost } from './off-path.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 4);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = 16;
const MODES = ['off', 'on:0.01', 'on:1', 'auto:1'] as const;
const subjectFile = fileURLToPath(new URL('./subject.ts', import.meta.url));
const cores = pinnableCores();

interface Running {
  child: ChildProcess;
  port: number;
}

async function startSubject(args: string[], core: number | undefined): Promise<Running> {
  const child = spawn(process.execPath, [subjectFile, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  if (core !== undefined) pinToCores(child.pid!, String(core));
  let out = '';
  for await (const chunk of child.stdout!) {
    out += String(chunk);
    const match = /ready (\d+)/.exec(out);
    if (match) return { child, port: Number(match[1]) };
  }
  throw new Error(`${args[0]} exited before it was ready`);
}

async function stop(running: Running): Promise<void> {
  running.child.kill('SIGKILL');
  if (running.child.exitCode === null) await once(running.child, 'exit');
}

/**
 * `sampled`: the share of requests that arrive with a sampled traceparent, as behind a gateway
 * sampling that share (undefined: no traceparent, as from a client).
 */
async function load(url: string, seconds: number, sampled?: number) {
  const hex = (n: number) =>
    Array.from({ length: n }, () => Math.floor(Math.random() * 16).toString(16)).join('');
  return autocannon({
    url,
    connections: CONNECTIONS,
    duration: seconds,
    pipelining: 1,
    ...(sampled === undefined
      ? {}
      : {
          requests: [
            {
              setupRequest: (req) => ({
                ...req,
                headers: {
                  ...req.headers,
                  traceparent: `00-${hex(32)}-${hex(16)}-${Math.random() < sampled ? '01' : '00'}`,
                },
              }),
            },
          ],
        }),
  });
}

/** An OTLP/HTTP endpoint that reads and drops what it gets (the spans' sending is measured). */
async function startSink(): Promise<{ url: string; close(): void; spans: () => number }> {
  let bytes = 0;
  const server = http.createServer((req, res) => {
    req.on('data', (c: Buffer) => {
      bytes += c.length;
    });
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`,
    close: () => server.close(),
    spans: () => bytes,
  };
}

interface Sample {
  subject: string;
  mode: string;
  requests: number;
  errors: number;
  cpuUsPerRequest: number;
  p99Ms: number;
  rps: number;
}

async function measure(
  subject: string,
  mode: string,
  path: string,
  extra: string[],
  behindGateway: boolean,
): Promise<Sample> {
  const running = await startSubject([subject, mode, ...extra], cores[0]);
  try {
    const url = `http://127.0.0.1:${running.port}${path}`;
    // an app behind the gateway gets the gateway's decision with each request
    const sampled = behindGateway ? (mode === 'off' ? 0 : Number(mode.split(':')[1])) : undefined;
    await load(url, 1, sampled); // warm: JIT, keep-alive sockets, the cache
    const before = procCpuSeconds(running.child.pid!);
    const result = await load(url, SECONDS, sampled);
    const after = procCpuSeconds(running.child.pid!);
    const requests = result.requests.total;
    return {
      subject,
      mode,
      requests,
      errors: result.errors + result.non2xx,
      cpuUsPerRequest: before === null || after === null ? Number.NaN : ((after - before) * 1e6) / requests,
      p99Ms: result.latency.p99,
      rps: Math.round(requests / SECONDS),
    };
  } finally {
    await stop(running);
  }
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

async function main(): Promise<void> {
  if (cores.length > 1) pinToCores(process.pid, cores.slice(1).join(','));
  const sink = await startSink();
  const backend = await startSubject(['backend'], cores[1]);
  const only = process.env.BENCH_ONLY;
  const subjects = [
    {
      subject: 'gateway',
      path: '/articles/hello-world',
      extra: [`http://127.0.0.1:${backend.port}`, sink.url],
      behindGateway: false,
    },
    { subject: 'modern', path: '/articles/alpha', extra: ['', sink.url], behindGateway: true },
  ].filter((s) => !only || s.subject === only);

  const samples: Sample[] = [];
  try {
    for (let r = 0; r < ROUNDS; r++) {
      for (const s of subjects) {
        for (const mode of MODES) {
          const sample = await measure(s.subject, mode, s.path, s.extra, s.behindGateway);
          samples.push(sample);
          console.log(
            `round ${r + 1} ${s.subject.padEnd(8)} ${mode.padEnd(8)} ${round(sample.cpuUsPerRequest)} µs CPU/request, ${sample.rps} req/s, p99 ${sample.p99Ms} ms${sample.errors ? `, ${sample.errors} errors` : ''}`,
          );
        }
      }
    }
  } finally {
    await stop(backend);
    sink.close();
  }

  const results = subjects.flatMap((s) =>
    MODES.map((mode) => {
      const mine = samples.filter((x) => x.subject === s.subject && x.mode === mode);
      const cpu = mine.map((x) => x.cpuUsPerRequest);
      return {
        name: `${s.subject} ${mode}`,
        subject: s.subject,
        mode,
        cpuUsPerRequest: round(median(cpu)),
        cpuUsPerRequestRange: [round(Math.min(...cpu)), round(Math.max(...cpu))],
        rps: median(mine.map((x) => x.rps)),
        p99Ms: median(mine.map((x) => x.p99Ms)),
        errors: mine.reduce((n, x) => n + x.errors, 0),
      };
    }),
  );
  const cpuOf = (subject: string, mode: string) =>
    results.find((x) => x.subject === subject && x.mode === mode)?.cpuUsPerRequest ?? Number.NaN;
  const offPath = offPathCost();
  const targets = subjects.flatMap(({ subject }) => {
    const off = cpuOf(subject, 'off');
    const hookNs = subject === 'gateway' ? offPath.gatewayNs : offPath.appNs;
    return [
      benchTarget(
        `${subject}: tracing off, cost of the tracing code on the request path`,
        round((hookNs / 1000 / off) * 100, 3),
        '<=',
        2,
        `percent: ns per request of the off-path tracing calls (micro-bench) / ${subject} CPU ns per request with tracing off`,
      ),
      benchTarget(
        `${subject}: tracing on at 1 % sampling, extra CPU per request`,
        round((cpuOf(subject, 'on:0.01') / off - 1) * 100),
        '<=',
        5,
        `percent: ${subject} CPU per request on at 1 % / off, minus 1 (medians of ${ROUNDS} rounds)`,
      ),
      benchTarget(
        `${subject}: tracing on at 100 % sampling, extra CPU per request (stated)`,
        round((cpuOf(subject, 'on:1') / off - 1) * 100),
        '<=',
        100,
        `percent: ${subject} CPU per request on at 100 % / off, minus 1; stated, the bound only flags a regression`,
      ),
      benchTarget(
        `${subject}: ours at 100 % vs the official http instrumentation at 100 %`,
        round((cpuOf(subject, 'on:1') / cpuOf(subject, 'auto:1')) * 100),
        '<=',
        100,
        `percent: ${subject} CPU per request with this package's spans / with @opentelemetry/instrumentation-http`,
      ),
    ];
  });
  const file = writeBenchReport({
    package: '@pilot/telemetry',
    setup: { seconds: SECONDS, rounds: ROUNDS, connections: CONNECTIONS, pinned: cores.length > 1, offPath },
    results,
    targets,
  });
  console.table(
    results.map(({ name, cpuUsPerRequest, cpuUsPerRequestRange, rps, p99Ms, errors }) => ({
      name,
      'CPU µs/req': cpuUsPerRequest,
      range: cpuUsPerRequestRange.join('–'),
      'req/s': rps,
      'p99 ms': p99Ms,
      errors,
    })),
  );
  for (const t of targets)
    console.log(`${t.met ? 'met ' : 'MISS'} ${t.name}: ${t.value} (${t.comparison} ${t.target})`);
  console.log(`written to ${file}`);
}

await main();
