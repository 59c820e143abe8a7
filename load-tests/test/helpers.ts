import { capacityVerdict, type PhaseResult } from '../k6/lib/analysis.js';
import type { Target } from '../src/catalogue.ts';
import type { RunCost } from '../src/cost.ts';
import { LatencyHistogram } from '../src/histogram.ts';
import type { RunResult } from '../src/model.ts';

/** A cost block: the target's own process at `cpuPer1k` CPU-s/1k req and `rssMb` peak. */
export function fakeCost(target: Target, cpuPer1k: number, rssMb: number, requests = 1000): RunCost {
  const own = {
    name: target,
    source: 'proc' as const,
    pids: [4242],
    cpuSeconds: (cpuPer1k * requests) / 1000,
    cpuPer1k,
    peakRssBytes: rssMb * 1024 * 1024,
  };
  return {
    processes: [own],
    own: target,
    pathProcesses: [target],
    pathCpuPer1k: cpuPer1k,
    generator: { cpuSeconds: 1, cpuCores: 0.5, elu: 0.4, saturated: false, late: false, why: null },
  };
}

/** A RunResult with the given latencies (ms), for report tests. */
export function fakeRun(
  scenario: string,
  target: Target,
  latencies: number[],
  over: Partial<RunResult> = {},
): RunResult {
  const h = new LatencyHistogram();
  for (const v of latencies) h.record(v);
  const latency = h.summary();
  return {
    scenario,
    kind: 'fixed',
    route: `GET /${scenario}`,
    target,
    engine: 'node',
    baseUrl: 'http://127.0.0.1:1',
    mode: 'full',
    round: 1,
    executor: 'constant-arrival-rate',
    startedAt: '2026-01-01T00:00:00.000Z',
    elapsedMs: 1000,
    iterations: {
      offered: latencies.length,
      started: latencies.length,
      completed: latencies.length,
      dropped: 0,
      interrupted: 0,
    },
    requests: latencies.length,
    errors: 0,
    errorRate: 0,
    throughput: latencies.length,
    offeredRate: latencies.length,
    statusCodes: { '200': latencies.length },
    errorKinds: {},
    errorSamples: [],
    latency,
    curve: h.curve(),
    histogram: h.encode(),
    steps: { main: { requests: latencies.length, errors: 0, latency } },
    timeline: [
      {
        second: 0,
        seconds: 1,
        offered: latencies.length,
        started: latencies.length,
        completed: latencies.length,
        dropped: 0,
        requests: latencies.length,
        errors: 0,
        p50: latency.p50,
        p99: latency.p99,
      },
    ],
    generatorLag: { p99: 0.5, max: 1 },
    servedBy: {},
    thresholds: {
      p95: { limit: 100, actual: latency.p95, ok: latency.p95 < 100 },
      p99: { limit: 200, actual: latency.p99, ok: latency.p99 < 200 },
      errorRate: { limit: 0.01, actual: 0, ok: true },
      ok: latency.p95 < 100 && latency.p99 < 200,
    },
    upstreamCalls: null,
    cost: null,
    ...over,
  };
}

/** A capacity step: offered `rate` for 2 s with this p99 and error count. */
export function step(i: number, rate: number, p99: number, errors = 0): PhaseResult {
  const offered = rate * 2;
  return {
    name: `step ${i + 1}`,
    rate,
    startMs: i * 2000,
    endMs: (i + 1) * 2000,
    offered,
    completed: offered - errors,
    dropped: 0,
    requests: offered,
    errors,
    errorRate: errors / offered,
    achievedRate: (offered - errors) / 2,
    latency: { p50: p99 / 3, p95: p99 * 0.8, p99, max: p99 * 1.2, count: offered },
    generator: { cpuCores: 0.5, elu: 0.5, lagP90: 2 },
    processes: {},
  };
}

export function capacityRun(
  target: Target,
  steps: Array<[number, number, number?]>,
  cpuPer1k = 0.5,
): RunResult {
  const phases = steps.map(([rate, p99, errors], i) => step(i, rate, p99, errors ?? 0));
  return fakeRun('cached-read-capacity', target, [1, 2, 3, 4], {
    kind: 'capacity',
    of: 'cached-read',
    phases,
    capacity: capacityVerdict(phases, { p99Ms: 150, errorRate: 0.01 }, { generatorLagMs: 50 }),
    cost: fakeCost(target, cpuPer1k, 90),
  });
}
