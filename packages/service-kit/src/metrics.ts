import { exemplarLabels } from '@pilot/telemetry';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

export interface HttpMetrics {
  registry: Registry;
  requests: Counter<'method' | 'route' | 'status'>;
  duration: Histogram<'method' | 'route' | 'status'>;
  /** Records one finished request; `route` is the route pattern, never the raw URL. */
  observe(method: string, route: string, status: number, seconds: number): void;
}

/** Latency buckets from 1 ms to 10 s: covers cached reads and the 3 s legacy /aggregate. */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * One Prometheus registry per app instance (not the global one), so tests can build many
 * apps in one process.
 */
export function createHttpMetrics(service: string): HttpMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by route pattern and status.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency, by route pattern and status.',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: LATENCY_BUCKETS,
    // the trace of a sampled request, shown in OpenMetrics (see @pilot/telemetry renderMetrics);
    // prom-client refuses exemplars at construction in a Prometheus-text registry, not after
    enableExemplars: true,
    registers: [],
  });
  registry.registerMetric(duration);
  // prom-client hashes the label set on every inc/observe; the set of (method, route pattern,
  // status) is small and bounded, so resolve each combination to its children once.
  const children = new Map<
    string,
    { labels: Record<string, string>; count: { inc(): void }; latency: { observe(v: number): void } }
  >();
  return {
    registry,
    requests,
    duration,
    observe(method, route, status, seconds) {
      const key = `${method} ${status} ${route}`;
      let child = children.get(key);
      if (!child) {
        const labels = { method, route, status: String(status) };
        child = { labels, count: requests.labels(labels), latency: duration.labels(labels) };
        children.set(key, child);
      }
      child.count.inc();
      const exemplar = exemplarLabels();
      // prom-client types exemplar labels as the metric's own label names; any names are valid
      if (exemplar)
        duration.observe({ labels: child.labels, value: seconds, exemplarLabels: exemplar as never });
      else child.latency.observe(seconds);
    },
  };
}
