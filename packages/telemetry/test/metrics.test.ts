import { Counter, Histogram, Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderMetrics, wantsOpenMetrics } from '../src/index.ts';

const PROMETHEUS_ACCEPT =
  'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

describe('wantsOpenMetrics', () => {
  it('follows the Accept header', () => {
    expect(wantsOpenMetrics(PROMETHEUS_ACCEPT)).toBe(true);
    expect(wantsOpenMetrics('text/plain')).toBe(false);
    expect(wantsOpenMetrics(undefined)).toBe(false);
    expect(wantsOpenMetrics('*/*')).toBe(false);
    expect(wantsOpenMetrics('application/openmetrics-text;q=0, text/plain')).toBe(false);
  });
});

describe('renderMetrics', () => {
  const registry = new Registry();
  let counter: Counter;
  let histogram: Histogram;
  beforeAll(() => {
    registry.setDefaultLabels({ service: 'modern' });
    counter = new Counter({
      name: 'http_requests_total',
      help: 'n',
      labelNames: ['route'],
      registers: [registry],
    });
    histogram = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'latency',
      labelNames: ['route'],
      buckets: [0.1, 1],
      enableExemplars: true,
      // prom-client refuses exemplars at construction in a Prometheus-text registry; registered
      // afterwards, the Prometheus text leaves them out and the OpenMetrics view shows them
      registers: [],
    });
    registry.registerMetric(histogram);
    counter.inc({ route: '/articles' });
    histogram.observe({
      labels: { route: '/articles' },
      value: 0.5,
      exemplarLabels: { trace_id: '4bf92f3577b34da6a3ce929d0e0e4736' },
    });
  });
  afterAll(() => registry.clear());

  it('OpenMetrics, with the exemplar, for a scraper that asks for it', async () => {
    const { contentType, body } = await renderMetrics(registry, PROMETHEUS_ACCEPT);
    expect(contentType).toContain('application/openmetrics-text');
    const bucket = body.split('\n').find((l) => l.startsWith('http_request_duration_seconds_bucket{le="1"'));
    expect(bucket).toContain('route="/articles"');
    expect(bucket).toContain('service="modern"');
    expect(bucket).toMatch(/\} 1 # \{trace_id="4bf92f3577b34da6a3ce929d0e0e4736"\} 0\.5 \d+/);
    expect(body).toContain('# TYPE http_requests counter');
    expect(body).toMatch(/^http_requests_total\{.*route="\/articles".*\} 1$/m);
    expect(body.endsWith('# EOF\n')).toBe(true);
  });

  it('Prometheus text otherwise, unchanged by an earlier OpenMetrics render', async () => {
    await renderMetrics(registry, PROMETHEUS_ACCEPT);
    const { contentType, body } = await renderMetrics(registry, 'text/plain');
    expect(contentType).toContain('text/plain');
    expect(body).toContain('# TYPE http_requests_total counter');
    expect(body).toMatch(/^http_requests_total\{.*route="\/articles".*\} 1$/m);
    expect(body).not.toContain('trace_id');
    expect(body).toBe(await registry.metrics());
  });
});
