import { stdoutDroppedChunks } from '@pilot/telemetry';
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { BreakerState } from './pipeline/route-breaker.ts';
import { type RawWindow, WindowStats } from './stats.ts';

/**
 * The gateway's metrics. Prometheus metrics (prom-client, one registry per gateway
 * so several gateways can live in one test process) plus the recent-window stats behind
 * /admin/stats. The per-request path touches pre-resolved label children only: a Recorder is
 * resolved once per route × backend when a table is compiled, never per request.
 */
const CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;
const LATENCY_BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * Request counts and latency for one route × backend, as plain numbers: recording is a few
 * array increments, and prom-client reads them only when /metrics is scraped.
 */
export class Recorder {
  readonly route: string;
  readonly backend: string;
  readonly window = new WindowStats();
  readonly counts = new Float64Array(CLASSES.length);
  readonly buckets = new Float64Array(LATENCY_BUCKETS_S.length);
  sum = 0;
  count = 0;
  /**
   * The latest sampled trace per bucket (last slot: over the largest bound), shown as an
   * OpenMetrics exemplar so a slow bucket links to a trace; empty while tracing is off.
   */
  readonly exemplars: Array<{ traceId: string; value: number; timestamp: number } | undefined> = [];

  constructor(route: string, backend: string) {
    this.route = route;
    this.backend = backend;
  }

  record(status: number, ms: number, traceId?: string): void {
    let cls = ((status / 100) | 0) - 1;
    if (cls < 0 || cls > 4) cls = 4;
    this.counts[cls]!++;
    const s = ms / 1000;
    this.sum += s;
    this.count++;
    let i = 0;
    for (; i < LATENCY_BUCKETS_S.length; i++) {
      if (s <= LATENCY_BUCKETS_S[i]!) {
        this.buckets[i]!++;
        break;
      }
    }
    if (traceId !== undefined) this.exemplars[i] = { traceId, value: s, timestamp: Date.now() / 1000 };
    this.window.record(ms, status >= 500);
  }
}

interface MetricValue {
  value: number;
  labels: Record<string, string | number>;
  metricName?: string;
  /** Rendered only in OpenMetrics (see @pilot/telemetry renderMetrics). */
  exemplar?: { labelSet: Record<string, string>; value: number; timestamp: number };
}

function exemplarOf(rec: Recorder, i: number): Pick<MetricValue, 'exemplar'> {
  const e = rec.exemplars[i];
  return e ? { exemplar: { labelSet: { trace_id: e.traceId }, value: e.value, timestamp: e.timestamp } } : {};
}

/** A metric prom-client formats (and aggregates across cluster workers) from our own numbers. */
function computed(name: string, help: string, type: 'counter' | 'histogram', values: () => MetricValue[]) {
  return {
    name,
    help,
    type,
    aggregator: 'sum',
    get: async () => ({ name, help, type, aggregator: 'sum', values: values() }),
    reset: () => {},
  };
}

/** The recent-window numbers of every route × backend, as /admin/stats and the cluster hub merge them. */
export type RawStats = Array<{ route: string; backend: string; raw: RawWindow }>;

export class GatewayMetrics {
  readonly registry = new Registry();
  readonly upstreamErrors: Counter;
  readonly fallbacks: Counter;
  readonly rejected: Counter;
  readonly backendUp: Gauge;
  readonly breaker: Gauge;
  readonly routeBreaker: Gauge;
  readonly ejections: Counter;
  readonly reloads: Counter;
  readonly tableInfo: Gauge;
  readonly weights: Gauge;
  readonly adminActions: Counter;
  readonly inFlight: Gauge;
  readonly logDropped: Counter;
  private readonly recorders = new Map<string, Recorder>();

  constructor(
    options: { defaultMetrics?: boolean; labels?: Record<string, string>; inFlight?: () => number } = {},
  ) {
    const r = [this.registry];
    if (options.labels) this.registry.setDefaultLabels(options.labels);
    if (options.defaultMetrics) collectDefaultMetrics({ register: this.registry });
    const recorders = () => [...this.recorders.values()];
    this.registry.registerMetric(
      computed(
        'gateway_requests_total',
        'Requests answered, by route, backend and status class',
        'counter',
        () =>
          recorders().flatMap((rec) =>
            CLASSES.flatMap((cls, i) =>
              rec.counts[i]! > 0
                ? [
                    {
                      value: rec.counts[i]!,
                      labels: { route: rec.route, backend: rec.backend, status_class: cls },
                    },
                  ]
                : [],
            ),
          ),
      ) as never,
    );
    const hist = 'gateway_request_duration_seconds';
    this.registry.registerMetric(
      computed(hist, 'Time from request to response end, by route and backend', 'histogram', () =>
        recorders().flatMap((rec) => {
          if (rec.count === 0) return [];
          const labels = { route: rec.route, backend: rec.backend };
          const out: MetricValue[] = [];
          let acc = 0;
          LATENCY_BUCKETS_S.forEach((le, i) => {
            acc += rec.buckets[i]!;
            out.push({
              metricName: `${hist}_bucket`,
              labels: { le, ...labels },
              value: acc,
              ...exemplarOf(rec, i),
            });
          });
          out.push({
            metricName: `${hist}_bucket`,
            labels: { le: '+Inf', ...labels },
            value: rec.count,
            ...exemplarOf(rec, LATENCY_BUCKETS_S.length),
          });
          out.push({ metricName: `${hist}_sum`, labels, value: rec.sum });
          out.push({ metricName: `${hist}_count`, labels, value: rec.count });
          return out;
        }),
      ) as never,
    );
    this.upstreamErrors = new Counter({
      name: 'gateway_upstream_errors_total',
      help: 'Upstream failures before a response: connect, timeout, reset',
      labelNames: ['route', 'backend', 'kind'],
      registers: r,
    });
    this.fallbacks = new Counter({
      name: 'gateway_fallbacks_total',
      help: 'Requests sent to the fallback backend',
      labelNames: ['route', 'from', 'to', 'reason'],
      registers: r,
    });
    this.rejected = new Counter({
      name: 'gateway_rejected_total',
      help: 'Requests the gateway refused itself',
      labelNames: ['reason'],
      registers: r,
    });
    this.backendUp = new Gauge({
      name: 'gateway_backend_up',
      help: 'Active health of a backend (1 up, 0 down)',
      labelNames: ['backend'],
      registers: r,
      aggregator: 'min',
    });
    this.breaker = new Gauge({
      name: 'gateway_breaker_state',
      help: 'Backend availability as a breaker state (0 closed = up, 1 half-open = recovering, 2 open = ejected)',
      labelNames: ['backend'],
      registers: r,
      aggregator: 'max',
    });
    this.routeBreaker = new Gauge({
      name: 'gateway_route_breaker_state',
      help: 'Route breaker state per route and backend (0 closed, 1 half-open, 2 open); fed by 5xx answers and timeouts',
      labelNames: ['route', 'backend'],
      registers: r,
      aggregator: 'max',
    });
    this.ejections = new Counter({
      name: 'gateway_backend_ejections_total',
      help: 'Backends taken out of every route, by reason (health, gateway-failures, stall)',
      labelNames: ['backend', 'reason'],
      registers: r,
    });
    this.reloads = new Counter({
      name: 'gateway_table_reloads_total',
      help: 'Route table loads by result',
      labelNames: ['result'],
      registers: r,
    });
    this.tableInfo = new Gauge({
      name: 'gateway_table_info',
      help: 'The active route table (value 1)',
      labelNames: ['version', 'file_version'],
      registers: r,
      aggregator: 'first',
    });
    this.weights = new Gauge({
      name: 'gateway_route_weight_percent',
      help: 'Effective weight of a backend on a route',
      labelNames: ['route', 'backend'],
      registers: r,
      aggregator: 'first',
    });
    this.adminActions = new Counter({
      name: 'gateway_admin_actions_total',
      help: 'Admin actions by kind',
      labelNames: ['action'],
      registers: r,
    });
    const inFlight = options.inFlight;
    this.inFlight = new Gauge({
      name: 'gateway_in_flight_requests',
      help: 'Requests in flight',
      registers: r,
      // read at scrape time from the data plane's counter
      collect() {
        if (inFlight) this.set(inFlight());
      },
    });
    let droppedSeen = 0;
    this.logDropped = new Counter({
      name: 'gateway_log_chunks_dropped_total',
      help: 'Chunks of log lines (~4 KiB each) dropped because standard output fell 64 MiB behind',
      registers: r,
      // read at scrape time from the log output
      collect() {
        const dropped = stdoutDroppedChunks();
        if (dropped > droppedSeen) this.inc(dropped - droppedSeen);
        droppedSeen = dropped;
      },
    });
  }

  recorder(route: string, backend: string): Recorder {
    const key = `${route}\u0000${backend}`;
    let rec = this.recorders.get(key);
    if (!rec) {
      rec = new Recorder(route, backend);
      this.recorders.set(key, rec);
    }
    return rec;
  }

  rawWindows(windowS: number): RawStats {
    const out: RawStats = [];
    for (const rec of this.recorders.values())
      out.push({ route: rec.route, backend: rec.backend, raw: rec.window.raw(windowS) });
    return out;
  }

  setBreaker(backend: string, state: BreakerState): void {
    this.breaker.set({ backend }, state === 'closed' ? 0 : state === 'half-open' ? 1 : 2);
  }

  setTable(
    version: string,
    fileVersion: string,
    weights: Array<{ route: string; weights: Record<string, number> }>,
  ): void {
    this.tableInfo.reset();
    this.tableInfo.set({ version, file_version: fileVersion }, 1);
    this.weights.reset();
    for (const { route, weights: w } of weights) {
      for (const [backend, value] of Object.entries(w)) this.weights.set({ route, backend }, value);
    }
  }
}
