import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Logger } from 'pino';
import {
  type ActionActor,
  type ControlOptions,
  ControlPlane,
  type ReloadResult,
  type RouteChange,
} from './control/plane.ts';
import type { AuditEntry } from './control/overrides.ts';
import { DataPlane } from './pipeline/data-plane.ts';
import { createPublicServer } from './pipeline/listener.ts';
import type { Table } from './table.ts';

export type { ActionActor, ReloadResult };

export interface GatewayOptions extends ControlOptions {
  logger: Logger;
  /** Public port and host (0 = ephemeral). */
  port?: number;
  host?: string;
  /** Admin port and host; the admin server is created by createGateway (see index.ts). */
  adminPort?: number;
  adminHost?: string;
  adminToken?: string;
  /** Run active health checks (default true). */
  healthChecks?: boolean;
  /** Log one line per request (default true). */
  accessLog?: boolean;
  /** Largest request head Node accepts (default 16 KiB); larger → 431. */
  maxHeaderSize?: number;
  /** How long close() waits for in-flight requests (default 10 s). */
  shutdownGraceMs?: number;
  /** Process metrics (CPU, memory, event loop) in /metrics (default false). */
  defaultMetrics?: boolean;
  instanceId?: string;
}

/**
 * One gateway process: the data plane (pipeline/: the public port and the request path) and
 * the control plane (control/: table, overrides, reload, audit, cluster) wired together, with
 * listen and a graceful close. Its getters are the two planes' state, for tests and embedders.
 */
export class Gateway {
  readonly options: GatewayOptions;
  readonly logger: Logger;
  readonly instanceId: string;
  /** reload, overrides, breaker, health, route-breaker, shadow, drained. */
  readonly events = new EventEmitter();
  readonly data: DataPlane;
  readonly control: ControlPlane;
  readonly server: http.Server;
  private readonly sockets: Set<Socket>;

  constructor(options: GatewayOptions) {
    this.options = options;
    this.logger = options.logger;
    this.instanceId = options.instanceId ?? `${process.pid}-${randomUUID().slice(0, 8)}`;
    this.data = new DataPlane({
      logger: this.logger,
      events: this.events,
      accessLog: options.accessLog,
      healthChecks: options.healthChecks,
      defaultMetrics: options.defaultMetrics,
      cluster: options.cluster,
      redisUrl: options.redisUrl,
      redisPrefix: options.redisPrefix,
    });
    this.control = new ControlPlane(options, this.data, this.instanceId, this.logger, this.events);
    const pub = createPublicServer(this.data, options.maxHeaderSize);
    this.server = pub.server;
    this.sockets = pub.sockets;
  }

  /** Loads the table and the overrides; call once before listen. */
  init(): Promise<void> {
    return this.control.init();
  }

  get table(): Table {
    return this.data.table;
  }

  get metrics() {
    return this.data.metrics;
  }

  get pool() {
    return this.data.pool;
  }

  get breakers() {
    return this.data.breakers;
  }

  get shadows() {
    return this.data.shadows;
  }

  get store() {
    return this.control.store;
  }

  get inFlight(): number {
    return this.data.inFlight;
  }

  route(id: string) {
    return this.control.route(id);
  }

  reload(reason = 'admin'): Promise<ReloadResult> {
    return this.control.reload(reason);
  }

  changeRoute(id: string, change: RouteChange | null, action: string, actor: ActionActor) {
    return this.control.changeRoute(id, change, action, actor);
  }

  audit(entry: AuditEntry): Promise<void> {
    return this.control.audit(entry);
  }

  listen(port = this.options.port ?? 8080, host = this.options.host ?? '0.0.0.0'): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  /** Stops accepting, lets in-flight requests finish (up to the grace period), then closes everything. */
  async close(): Promise<void> {
    if (this.data.closing) return;
    this.data.closing = true;
    this.control.stopWatching();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    if (this.data.inFlight > 0) {
      const grace = this.options.shutdownGraceMs ?? 10_000;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, grace);
        t.unref();
        this.events.once('drained', () => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    for (const socket of this.sockets) socket.destroy();
    await closed;
    await this.data.close();
    await this.control.close();
  }
}
