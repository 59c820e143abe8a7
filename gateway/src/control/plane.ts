import type { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { type Env, type LoadedTable, loadTableFile } from '../config/load.ts';
import { GatewayError, TableError } from '../errors.ts';
import type { DataPlane } from '../pipeline/data-plane.ts';
import { serveShadowWorker } from '../shadow/cluster.ts';
import type { CompiledRoute, Overrides, RouteOverride, Table } from '../table.ts';
import { ClusterOverrideStore, exposeWorkerRegistry, serveWorker } from './cluster.ts';
import { buildTable } from './compile.ts';
import {
  type AuditEntry,
  isWritable,
  MemoryOverrideStore,
  type OverrideStore,
  RedisOverrideStore,
  writeBack,
} from './overrides.ts';
import { type TableWatcher, watchTable } from './watch.ts';

/** What the control plane is configured with (a subset of the gateway's options). */
export interface ControlOptions {
  /** Route table file (YAML or JSON). */
  routesFile: string;
  /** Environment used for backends' `urlEnv` (default: none). */
  env?: Env;
  redisUrl?: string;
  redisPrefix?: string;
  /** Watch the table file (default true). */
  watch?: boolean;
  /** Reload on SIGHUP (default false; server.ts turns it on). */
  sighup?: boolean;
  /** Write admin changes back to the table file when it is writable (default true). */
  writeBack?: boolean;
  /** This process is a node:cluster worker; the primary runs startClusterHub() (see cluster.ts). */
  cluster?: boolean;
}

export interface ReloadResult {
  ok: boolean;
  version: string;
  error?: string;
  issues?: TableError['issues'];
}

export interface ActionActor {
  who: string;
  ip: string;
}

export interface RouteChange {
  weights?: Record<string, number>;
  shadowPaused?: boolean;
}

/**
 * The control plane: where the table comes from and how it changes. It loads and validates the
 * file, keeps the overrides (Redis, the cluster primary or memory), watches the file and
 * SIGHUP, applies admin changes (stored, written back, audited) and hands each new table to the
 * data plane whole (DataPlane.install). It reads the data plane's numbers for the admin views
 * and the rollouts; the data plane never calls back into it.
 */
export class ControlPlane {
  readonly options: ControlOptions;
  readonly logger: Logger;
  readonly events: EventEmitter;
  readonly instanceId: string;
  readonly store: OverrideStore;
  /** The running request path this plane configures (and reads numbers from). */
  readonly data: DataPlane;
  lastReload: {
    at: string;
    ok: boolean;
    reason: string;
    error?: string;
    issues?: TableError['issues'];
  } | null = null;
  private loaded!: LoadedTable;
  private overrides: Overrides = {};
  private watcher: TableWatcher | null = null;
  private reloading: Promise<unknown> = Promise.resolve();
  private mutating: Promise<unknown> = Promise.resolve();

  constructor(
    options: ControlOptions,
    data: DataPlane,
    instanceId: string,
    logger: Logger,
    events: EventEmitter,
  ) {
    this.options = options;
    this.data = data;
    this.instanceId = instanceId;
    this.logger = logger;
    this.events = events;
    this.store = options.redisUrl
      ? new RedisOverrideStore(options.redisUrl, options.redisPrefix ?? 'pilot:gateway:', instanceId, logger)
      : options.cluster
        ? new ClusterOverrideStore(instanceId)
        : new MemoryOverrideStore(instanceId);
    if (options.cluster) {
      exposeWorkerRegistry(data.metrics.registry);
      serveWorker('stats', (args) => ({
        raws: data.metrics.rawWindows(Number(args.window)),
        shadow: data.shadows.snapshot(),
      }));
      serveShadowWorker(data.shadows, serveWorker);
    }
  }

  /** The active table (what new requests read). */
  get table(): Table {
    return this.data.table;
  }

  // the data plane's running state, read here for the admin views and the rollouts
  get metrics() {
    return this.data.metrics;
  }

  get shadows() {
    return this.data.shadows;
  }

  get pool() {
    return this.data.pool;
  }

  get breakers() {
    return this.data.breakers;
  }

  get inFlight(): number {
    return this.data.inFlight;
  }

  route(id: string): CompiledRoute | undefined {
    return this.table.routes.find((r) => r.id === id);
  }

  /** Loads the table, the overrides and subscribes to changes; call once before listen. */
  async init(): Promise<void> {
    this.loaded = await loadTableFile(this.options.routesFile, this.options.env ?? {});
    try {
      this.overrides = await this.store.load();
    } catch (error) {
      this.logger.error(
        { err: (error as Error).message },
        'override store unavailable; serving the file as it is until it answers',
      );
    }
    // subscribes even when Redis is down now: the store keeps trying and re-reads once it is back
    await this.store.subscribe((from) => void this.refreshOverrides(from));
    this.install(this.loaded, 'start');
    this.data.metrics.reloads.labels('ok').inc();
    this.lastReload = { at: new Date().toISOString(), ok: true, reason: 'start' };
    if (this.options.watch !== false || this.options.sighup) {
      this.watcher = watchTable(
        this.options.routesFile,
        (reason) => {
          if (reason === 'file' && this.options.watch === false) return;
          void this.reload(reason);
        },
        { signal: this.options.sighup === true },
      );
    }
  }

  private install(loaded: LoadedTable, reason: string): void {
    const table = buildTable(loaded.config, loaded.fileVersion, loaded.backends, this.overrides);
    const previous = this.data.snapshot?.table.version;
    this.data.install(table, graceMs(loaded));
    if (previous !== table.version) {
      this.logger.info(
        { version: table.version, fileVersion: table.fileVersion, reason },
        'route table active',
      );
    }
  }

  /** Re-reads the table file; an invalid file is refused and the active table keeps serving. */
  reload(reason = 'admin'): Promise<ReloadResult> {
    const run = this.reloading.then(async (): Promise<ReloadResult> => {
      try {
        const loaded = await loadTableFile(this.options.routesFile, this.options.env ?? {});
        this.loaded = loaded;
        this.install(loaded, reason);
        this.data.metrics.reloads.labels('ok').inc();
        this.lastReload = { at: new Date().toISOString(), ok: true, reason };
        this.events.emit('reload', { ok: true, version: this.table.version, reason });
        return { ok: true, version: this.table.version };
      } catch (error) {
        const e = error as Error;
        const issues = error instanceof TableError ? error.issues : undefined;
        this.data.metrics.reloads.labels('error').inc();
        this.lastReload = { at: new Date().toISOString(), ok: false, reason, error: e.message, issues };
        this.logger.error(
          { reason, err: e.message },
          'route table refused; the previous table keeps serving',
        );
        this.events.emit('reload', { ok: false, version: this.table.version, reason, error: e.message });
        return { ok: false, version: this.table.version, error: e.message, issues };
      }
    });
    this.reloading = run;
    return run;
  }

  private async refreshOverrides(from: string): Promise<void> {
    try {
      this.overrides = await this.store.load();
    } catch (error) {
      this.logger.warn({ err: (error as Error).message }, 'could not read overrides');
      return;
    }
    this.install(this.loaded, `overrides from ${from}`);
    this.events.emit('overrides', { from, version: this.table.version });
  }

  /** Applies an admin change to a route: stored (Redis or memory), written back, applied, audited. */
  changeRoute(
    id: string,
    change: RouteChange | null,
    action: string,
    actor: ActionActor,
  ): Promise<{ route: CompiledRoute; persisted: { redis: boolean; file: boolean } }> {
    const run = this.mutating.then(async () => {
      const route = this.route(id);
      if (!route) throw new GatewayError('ROUTE_NOT_FOUND', 404, `no route "${id}"`);
      if (change?.weights) validateWeights(change.weights, this.table);
      if (change?.shadowPaused !== undefined && !route.shadow) {
        throw new GatewayError('NO_SHADOW', 409, `route "${id}" has no shadow`);
      }
      const before = { weights: route.weights, shadowPaused: route.shadow?.paused };
      let next: RouteOverride | null = null;
      if (change) {
        next = {
          ...(this.overrides[id] ?? {}),
          ...change,
          by: actor.who,
          at: new Date().toISOString(),
        } as RouteOverride;
      }
      try {
        await this.store.save(id, next);
      } catch (error) {
        throw new GatewayError(
          'STORE_UNAVAILABLE',
          503,
          `override store unavailable, nothing changed: ${(error as Error).message}`,
        );
      }
      if (next) this.overrides = { ...this.overrides, [id]: next };
      else {
        const { [id]: _drop, ...rest } = this.overrides;
        this.overrides = rest;
      }
      let file = false;
      if (change && this.options.writeBack !== false) {
        try {
          file = await writeBack(this.options.routesFile, id, { ...change, migration: route.migration });
          if (file) this.loaded = await loadTableFile(this.options.routesFile, this.options.env ?? {});
        } catch (error) {
          this.logger.error({ err: (error as Error).message }, 'write-back to the table file failed');
        }
      }
      this.install(this.loaded, action);
      const after = this.route(id)!;
      this.data.metrics.adminActions.labels(action).inc();
      await this.audit({
        at: new Date().toISOString(),
        who: actor.who,
        ip: actor.ip,
        instance: this.instanceId,
        action,
        route: id,
        detail: { before, after: { weights: after.weights, shadowPaused: after.shadow?.paused } },
      });
      return { route: after, persisted: { redis: this.store.kind === 'redis', file } };
    });
    this.mutating = run.catch(() => {});
    return run;
  }

  /** Logs the entry (pino, `audit: true`) and stores it where the override store keeps its audit trail. */
  async audit(entry: AuditEntry): Promise<void> {
    this.logger.info({ audit: true, ...entry }, `admin ${entry.action}`);
    try {
      await this.store.audit(entry);
    } catch (error) {
      this.logger.warn({ err: (error as Error).message }, 'audit store unavailable');
    }
  }

  async persistence(): Promise<{ redis: boolean; file: boolean }> {
    return {
      redis: this.store.kind === 'redis',
      file: this.options.writeBack !== false && (await isWritable(this.options.routesFile)),
    };
  }

  /** Stops watching the file. */
  stopWatching(): void {
    this.watcher?.close();
    this.watcher = null;
  }

  async close(): Promise<void> {
    this.stopWatching();
    await this.store.close();
  }
}

/** How long a replaced backend's pools stay open for the requests still on them. */
function graceMs(loaded: LoadedTable): number {
  let max = 0;
  for (const b of loaded.backends.values()) max = Math.max(max, b.config.timeoutMs, b.config.idleTimeoutMs);
  return Math.max(max, 5000) + 1000;
}

export function validateWeights(weights: Record<string, number>, table: Table): void {
  const entries = Object.entries(weights ?? {});
  if (entries.length === 0)
    throw new GatewayError('INVALID_WEIGHTS', 422, 'weights must name at least one backend');
  let sum = 0;
  for (const [name, w] of entries) {
    if (!table.backends.has(name))
      throw new GatewayError('INVALID_WEIGHTS', 422, `unknown backend "${name}"`);
    if (!Number.isInteger(w) || w < 0 || w > 100) {
      throw new GatewayError('INVALID_WEIGHTS', 422, `weight of "${name}" must be an integer 0..100`);
    }
    sum += w;
  }
  if (sum !== 100)
    throw new GatewayError('INVALID_WEIGHTS', 422, `weights must add up to 100 (they add up to ${sum})`);
}
