import type { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { GatewayMetrics } from '../metrics.ts';
import { registerShadowMetrics } from '../shadow/metrics.ts';
import { ShadowManager } from '../shadow/mirror.ts';
import type { Table } from '../table.ts';
import { AccessLog } from './access-log.ts';
import { type Backend, BackendPool } from './backends.ts';
import { rescue } from './fallback.ts';
import { headTimeout } from './forward.ts';
import { createHandler, type Handler } from './handler.ts';
import { type Availability, breakerStateOf, type EjectReason } from './outlier.ts';
import { RateLimits } from './rate-limit.ts';
import { type BreakerState, RouteBreakers } from './route-breaker.ts';
import type { PipelineState, Snapshot } from './context.ts';

export interface DataPlaneOptions {
  logger: Logger;
  /** Where state changes are announced: breaker, health, route-breaker, shadow, drained. */
  events: EventEmitter;
  /** One access log line per request (default true). */
  accessLog?: boolean;
  /** Active health checks (default true). */
  healthChecks?: boolean;
  /** Process metrics (CPU, memory, event loop) in the registry (default false). */
  defaultMetrics?: boolean;
  /** A node:cluster worker: the shadow's ratios are computed across workers by the primary. */
  cluster?: boolean;
  /** Rate-limit counters shared through this Redis (default: in the process). */
  redisUrl?: string;
  redisPrefix?: string;
}

/**
 * The data plane: the running backends (connection budgets, health, ejection), the route
 * breakers, the metrics, the shadow, and the request handler that reads them. The control
 * plane hands it a new table with install(); it never reaches back into the control plane.
 */
export class DataPlane implements PipelineState {
  readonly logger: Logger;
  readonly events: EventEmitter;
  readonly metrics: GatewayMetrics;
  readonly pool: BackendPool;
  /** Per route and backend, fed by 5xx answers and timeouts (see route-breaker.ts). */
  readonly breakers: RouteBreakers;
  readonly shadows: ShadowManager;
  readonly limits: RateLimits;
  readonly accessLog: AccessLog | null;
  readonly handle: Handler;
  readonly streamWarned = new Set<string>();
  snapshot!: Snapshot;
  inFlight = 0;
  closing = false;

  constructor(options: DataPlaneOptions) {
    this.logger = options.logger;
    this.events = options.events;
    this.metrics = new GatewayMetrics({
      defaultMetrics: options.defaultMetrics,
      inFlight: () => this.inFlight,
    });
    this.accessLog = options.accessLog === false ? null : new AccessLog(this.logger);
    this.pool = new BackendPool(
      { onState: (backend, status, reason) => this.onBackendState(backend, status, reason) },
      options.healthChecks !== false,
      this.logger,
    );
    this.pool.setHeadTimeoutHandler((_backend, w) => headTimeout(w));
    this.breakers = new RouteBreakers((route, backend, state) => {
      this.metrics.routeBreaker.set({ route, backend }, breakerLevel(state));
      this.logger.warn({ route, backend, state }, 'route breaker');
      this.events.emit('route-breaker', route, backend, state);
    });
    this.shadows = new ShadowManager({
      logger: this.logger,
      maxConcurrent: () => this.snapshot.table.settings.shadowMaxConcurrent,
      maxSamples: () => this.snapshot.table.settings.shadowMaxSamples,
      backend: (name) => this.pool.get(name),
      onResult: (event) => this.events.emit('shadow', event),
    });
    registerShadowMetrics(this.metrics.registry, this.shadows, options.cluster === true);
    this.limits = new RateLimits({
      logger: this.logger,
      redisUrl: options.redisUrl,
      redisPrefix: options.redisPrefix,
      registry: this.metrics.registry,
      onRefused: (req) => {
        this.metrics.rejected.labels('rate_limited').inc();
        this.accessLog?.refused(req.method, req.url, 429, 'rate_limited');
      },
    });
    this.handle = createHandler(this);
  }

  get table(): Table {
    return this.snapshot.table;
  }

  /**
   * Makes `table` the one new requests read. Backends whose URL or settings changed get new
   * connection pools (the old ones close once the requests on them are done, after `graceMs`);
   * breakers of routes and backends that stay keep their state.
   */
  install(table: Table, graceMs: number): void {
    this.pool.sync(table.backends, graceMs);
    for (const name of table.backends.keys()) {
      const b = this.pool.get(name)!;
      this.metrics.backendUp.set({ backend: name }, b.healthy ? 1 : 0);
      this.metrics.setBreaker(name, breakerStateOf(b.outlier.status));
    }
    this.breakers.retain(new Map(table.routes.map((r) => [r.id, r.breaker])), new Set(table.backends.keys()));
    this.metrics.setTable(
      table.version,
      table.fileVersion,
      table.routes.map((r) => ({ route: r.id, weights: r.weights })),
    );
    const backendHeader = table.settings.backendHeader.toLowerCase();
    this.snapshot = { table, backendHeader, ownHeaders: new Set(['x-request-id', backendHeader]) };
  }

  private onBackendState(backend: Backend, status: Availability, reason: EjectReason | null): void {
    const name = backend.name;
    // a backend replaced by a reload reports into the void: only the active one counts
    if (this.pool.get(name) !== backend) return;
    const healthy = status !== 'down';
    this.metrics.backendUp.set({ backend: name }, healthy ? 1 : 0);
    this.metrics.setBreaker(name, breakerStateOf(status));
    if (status === 'down') this.metrics.ejections.labels(name, reason ?? 'unknown').inc();
    this.logger.warn({ backend: name, state: status, reason: reason ?? undefined }, `backend ${status}`);
    this.events.emit('breaker', name, breakerStateOf(status));
    // healthy flips on down (false) and on recovering (true, half-open); up was already healthy
    if (status !== 'up') this.events.emit('health', name, healthy);
    if (status === 'down') rescue(this, backend);
  }

  /** After the public server stopped: health checks, pools, mirrors and the limits' Redis connection end. */
  close(): Promise<void> {
    this.pool.close();
    this.shadows.close();
    return this.limits.close();
  }
}

function breakerLevel(state: BreakerState): number {
  return state === 'closed' ? 0 : state === 'half-open' ? 1 : 2;
}
