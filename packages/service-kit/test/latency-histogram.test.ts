import { renderMetrics } from '@pilot/telemetry';
import fc from 'fast-check';
import { AggregatorRegistry, Histogram, Registry } from 'prom-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LatencyHistogram } from '../src/latency-histogram.ts';
import { LATENCY_BUCKETS } from '../src/metrics.ts';

const LABELS = ['method', 'route', 'status'] as const;
const OPENMETRICS = 'application/openmetrics-text; version=1.0.0';

interface Step {
  labels: { method: string; route: string; status: string };
  seconds: number;
  traceId?: string;
}

const step = fc.record(
  {
    labels: fc.record({
      method: fc.constantFrom('GET', 'POST'),
      route: fc.constantFrom('/articles/:slug', 'unmatched', 'a"b\\c\n'),
      status: fc.constantFrom('200', '404', '500'),
    }),
    seconds: fc.oneof(
      fc.double({ min: 0, max: 20, noNaN: true }),
      fc.constantFrom(...LATENCY_BUCKETS),
      fc.constantFrom(0, 1e-9, 10.000001, 1e6),
    ),
    traceId: fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: 32, maxLength: 32 }),
  },
  { requiredKeys: ['labels', 'seconds'] },
);

/** The same observations into prom-client's Histogram and ours, each in a registry of its own. */
function both(steps: Step[]) {
  const theirs = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'h',
    labelNames: LABELS,
    buckets: LATENCY_BUCKETS,
    enableExemplars: true,
    registers: [],
  });
  const ours = new LatencyHistogram({
    name: 'http_request_duration_seconds',
    help: 'h',
    labelNames: LABELS,
    buckets: LATENCY_BUCKETS,
    enableExemplars: true,
  });
  const series = new Map<string, ReturnType<LatencyHistogram['series']>>();
  for (const s of steps) {
    const key = JSON.stringify(s.labels);
    let one = series.get(key);
    if (!one) {
      one = ours.series(s.labels);
      series.set(key, one);
    }
    const exemplar = s.traceId ? { trace_id: s.traceId } : undefined;
    theirs.observe({ labels: s.labels, value: s.seconds, exemplarLabels: exemplar as never });
    one.observe(s.seconds, exemplar);
  }
  const registries = [new Registry(), new Registry()] as const;
  registries[0].registerMetric(theirs);
  registries[1].registerMetric(ours as never);
  for (const r of registries) r.setDefaultLabels({ service: 't' });
  return { theirs, ours, registries };
}

describe('LatencyHistogram renders as prom-client Histogram does', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('same Prometheus text, OpenMetrics text (exemplars), get() and cluster aggregate for generated observations', async () => {
    vi.spyOn(Date, 'now').mockReturnValue(1_767_225_600_123);
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 40 }), async (steps) => {
        const { theirs, ours, registries } = both(steps);
        const [a, b] = registries;
        expect(await b.metrics()).toBe(await a.metrics());
        expect((await renderMetrics(b, OPENMETRICS)).body).toBe((await renderMetrics(a, OPENMETRICS)).body);
        expect(await ours.get()).toEqual(await theirs.get());
        const aggregate = async (r: Registry) =>
          AggregatorRegistry.aggregate([await r.getMetricsAsJSON(), await r.getMetricsAsJSON()]).metrics();
        expect(await aggregate(b)).toBe(await aggregate(a));
      }),
      { numRuns: 150 },
    );
  });

  it('refuses a latency that is not a number, as prom-client does, and reset() empties it', async () => {
    const { ours, registries } = both([
      { labels: { method: 'GET', route: '/', status: '200' }, seconds: 0.01 },
    ]);
    const one = ours.series({ method: 'GET', route: '/x', status: '200' });
    expect(() => one.observe(Number.NaN)).toThrow(TypeError);
    expect(await registries[1].metrics()).toContain(
      'http_request_duration_seconds_count{service="t",method="GET",route="/",status="200"} 1',
    );
    registries[1].resetMetrics();
    expect(await registries[1].metrics()).not.toContain('_count');
  });
});
