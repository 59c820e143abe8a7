import { exemplarLabels } from '@pilot/telemetry';
import { collectDefaultMetrics, Counter, Registry } from 'prom-client';
import { LatencyHistogram, type LatencySeries } from './latency-histogram.ts';
import { Tally, type TallySlot } from './tally.ts';

export interface HttpMetrics {
  registry: Registry;
  requests: Counter<'method' | 'route' | 'status'>;
  duration: LatencyHistogram;
  /** Records one finished request; `route` is the route pattern, never the raw URL. */
  observe(method: string, route: string, status: number, seconds: number): void;
}

interface Child {
  labels: Record<string, string>;
  count: TallySlot;
  latency: LatencySeries;
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
  const counted = new Tally<'method' | 'route' | 'status'>();
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by route pattern and status.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
    collect() {
      counted.flush(this);
    },
  });
  const duration = new LatencyHistogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency, by route pattern and status.',
    labelNames: ['method', 'route', 'status'],
    buckets: LATENCY_BUCKETS,
    // the trace of a sampled request, shown in OpenMetrics (see @pilot/telemetry renderMetrics)
    enableExemplars: true,
  });
  // a prom-client registry renders any metric through get(); see latency-histogram.ts
  registry.registerMetric(duration as never);
  // prom-client hashes the label set on every inc; the set of (route pattern, method,
  // status) is small and bounded, so each combination is resolved to its children once, found
  // by three map lookups on the values themselves (a joined string key was built and hashed
  // per request)
  const children = new Map<string, Map<string, Map<number, Child>>>();
  const childFor = (method: string, route: string, status: number): Child => {
    let byMethod = children.get(route);
    if (!byMethod) {
      byMethod = new Map();
      children.set(route, byMethod);
    }
    let byStatus = byMethod.get(method);
    if (!byStatus) {
      byStatus = new Map();
      byMethod.set(method, byStatus);
    }
    let child = byStatus.get(status);
    if (!child) {
      const labels = { method, route, status: String(status) };
      child = { labels, count: counted.slot(labels), latency: duration.series(labels) };
      byStatus.set(status, child);
    }
    return child;
  };
  return {
    registry,
    requests,
    duration,
    observe(method, route, status, seconds) {
      const child = childFor(method, route, status);
      child.count.n++;
      child.latency.observe(seconds, exemplarLabels());
    },
  };
}
