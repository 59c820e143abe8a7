import type { Target } from '../src/catalogue.ts';
import { LatencyHistogram } from '../src/histogram.ts';
import type { RunResult } from '../src/runner.ts';

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
    route: `GET /${scenario}`,
    target,
    baseUrl: 'http://127.0.0.1:1',
    mode: 'full',
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
    statusCodes: { '200': latencies.length },
    errorKinds: {},
    errorSamples: [],
    latency,
    curve: h.curve(),
    histogram: h.encode(),
    steps: { main: { requests: latencies.length, errors: 0, latency } },
    timeline: [{ second: 0, requests: latencies.length, errors: 0, p50: latency.p50, p99: latency.p99 }],
    generatorLag: { p99: 0.5, max: 1 },
    servedBy: {},
    thresholds: {
      p95: { limit: 100, actual: latency.p95, ok: latency.p95 < 100 },
      p99: { limit: 200, actual: latency.p99, ok: latency.p99 < 200 },
      errorRate: { limit: 0.01, actual: 0, ok: true },
      ok: latency.p95 < 100 && latency.p99 < 200,
    },
    upstreamCalls: null,
    ...over,
  };
}
