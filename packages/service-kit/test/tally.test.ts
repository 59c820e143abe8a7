import fc from 'fast-check';
import type { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createHttpMetrics } from '../src/metrics.ts';

/** `http_requests_total` as the registry renders it: label text → value. */
async function requestCounts(registry: Registry): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const line of (await registry.metrics()).split('\n')) {
    const m = /^http_requests_total\{(.*)\} (\d+)$/.exec(line);
    if (m) counts.set(m[1]!, Number(m[2]));
  }
  return counts;
}

const label = (method: string, route: string, status: number) =>
  `method="${method}",route="${route}",status="${status}",service="t"`;

describe('request counts kept beside prom-client (Tally) and added when read', () => {
  it('every read shows exactly the requests observed so far, whatever the order of requests and reads (generated)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.oneof(
            fc.record({
              method: fc.constantFrom('GET', 'POST', 'HEAD'),
              route: fc.constantFrom('/articles/:slug', '/articles', 'unmatched'),
              status: fc.constantFrom(200, 404, 422, 500),
            }),
            fc.constant('read' as const),
          ),
          { maxLength: 60 },
        ),
        async (steps) => {
          const metrics = createHttpMetrics('t');
          const model = new Map<string, number>();
          for (const step of steps) {
            if (step === 'read') {
              expect(await requestCounts(metrics.registry)).toEqual(model);
              continue;
            }
            metrics.observe(step.method, step.route, step.status, 0.001);
            const key = label(step.method, step.route, step.status);
            model.set(key, (model.get(key) ?? 0) + 1);
          }
          expect(await requestCounts(metrics.registry)).toEqual(model);
          // the histogram counts the same requests, directly
          const histogram = await metrics.duration.get();
          const total = histogram.values
            .filter((v) => v.metricName === 'http_request_duration_seconds_count')
            .reduce((sum, v) => sum + v.value, 0);
          expect(total).toBe(steps.filter((s) => s !== 'read').length);
        },
      ),
      { numRuns: 80 },
    );
  });

  it('the counter read on its own (get()) is exact too', async () => {
    const metrics = createHttpMetrics('t');
    for (let i = 0; i < 5; i++) metrics.observe('GET', '/articles', 200, 0.01);
    const { values } = await metrics.requests.get();
    expect(values).toEqual([{ labels: { method: 'GET', route: '/articles', status: '200' }, value: 5 }]);
  });
});
