import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import http, { type ClientRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { choose } from './choose.ts';
import { type Env, type LoadedTable, loadTableFile } from './config/load.ts';
import {
  type AuditEntry,
  isWritable,
  MemoryOverrideStore,
  type OverrideStore,
  RedisOverrideStore,
  writeBack,
} from './config/overrides.ts';
import { watchTable, type TableWatcher } from './config/watch.ts';
import { ClusterOverrideStore, exposeWorkerRegistry, serveWorker } from './cluster.ts';
import {
  answerAndClose,
  drainBounded,
  GatewayError,
  MAX_DRAIN_BYTES,
  rawErrorResponse,
  sendError,
  TableError,
} from './errors.ts';
import { errorKind, type FallbackReason, mayFallback } from './fallback.ts';
import { type Backend, BackendPool, type Budget, type Queued, type Waiting } from './health.ts';
import { matchRoute } from './match.ts';
import { GatewayMetrics } from './metrics.ts';
import { normalizeTarget } from './normalize.ts';
import { type Availability, breakerStateOf, type EjectReason } from './pipeline/outlier.ts';
import { type BreakerState, type RouteBreaker, RouteBreakers } from './pipeline/route-breaker.ts';
import { registerShadowMetrics } from './shadow/metrics.ts';
import { serveShadowWorker } from './shadow/cluster.ts';
import { BodyTap, createForward, type Forward, prepareUpstreamHeaders, responseHeaders } from './proxy.ts';
import { ShadowManager, type ShadowRun, stripShadowHeader } from './shadow/mirror.ts';
import { buildTable, type CompiledRoute, type Overrides, type RouteOverride, type Table } from './table.ts';
import { traceRequest } from './tracing.ts';

export interface GatewayOptions {
  /** Route table file (YAML or JSON). */
  routesFile: string;
  /** Environment used for backends' `urlEnv` (default: none). */
  env?: Env;
  logger: Logger;
  /** Public port and host (0 = ephemeral). */
  port?: number;
  host?: string;
  /** Admin port and host; the admin server is created by createGateway (see index.ts). */
  adminPort?: number;
  adminHost?: string;
  adminToken?: string;
  redisUrl?: string;
  redisPrefix?: string;
  /** Watch the table file (default true). */
  watch?: boolean;
  /** Reload on SIGHUP (default false; server.ts turns it on). */
  sighup?: boolean;
  /** Write admin changes back to the table file when it is writable (default true). */
  writeBack?: boolean;
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
  /** This process is a node:cluster worker; the primary runs startClusterHub() (see cluster.ts). */
  cluster?: boolean;
}

interface Ctx extends Waiting {
  start: number;
  requestId: string;
  table: Table;
  route: CompiledRoute;
  backend: Backend;
  /** This route's breaker for `backend`. */
  breaker: RouteBreaker;
  method: string;
  bodyLength: number;
  attempt: number;
  fallbackFrom: string | null;
  fallbackReason: FallbackReason | null;
  setCookie: string | undefined;
  tap: BodyTap | undefined;
  shadow: ShadowRun | null;
  /** The connection budget slot this request holds (released when it ends or moves). */
  slot: Budget | null;
  /** Waiting for a slot. */
  queued: Queued | null;
  timedOut: boolean;
  tooLarge: boolean;
  /** Taken off a backend that was just ejected; goes to the fallback. */
  rescued: boolean;
  errorKind: string | null;
  reusedSocket: boolean;
  retried: boolean;
  /** This request's trace id when it is sampled (the latency exemplar). */
  traceId: string | undefined;
}

const CTX = Symbol('gateway.ctx');
type GwReq = IncomingMessage & { [CTX]?: Ctx };
const REQUEST_ID = /^[A-Za-z0-9._:@-]{1,128}$/;

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

export class Gateway {
  readonly options: GatewayOptions;
  readonly logger: Logger;
  readonly metrics: GatewayMetrics;
  readonly events = new EventEmitter();
  readonly server: http.Server;
  readonly pool: BackendPool;
  /** Per route and backend, fed by 5xx answers and timeouts (see pipeline/route-breaker.ts). */
  readonly breakers: RouteBreakers;
  readonly shadows: ShadowManager;
  readonly store: OverrideStore;
  readonly instanceId: string;
  table!: Table;
  lastReload: {
    at: string;
    ok: boolean;
    reason: string;
    error?: string;
    issues?: TableError['issues'];
  } | null = null;
  inFlight = 0;
  private loaded!: LoadedTable;
  private overrides: Overrides = {};
  private watcher: TableWatcher | null = null;
  private readonly forward: Forward;
  private readonly sockets = new Set<Socket>();
  private reloading: Promise<unknown> = Promise.resolve();
  private mutating: Promise<unknown> = Promise.resolve();
  private closing = false;
  private ownHeaders: ReadonlySet<string>;
  private backendHeader = 'x-backend';
  private readonly streamWarned = new Set<string>();

  constructor(options: GatewayOptions) {
    this.options = options;
    this.logger = options.logger;
    this.instanceId = options.instanceId ?? `${process.pid}-${randomUUID().slice(0, 8)}`;
    this.metrics = new GatewayMetrics({ defaultMetrics: options.defaultMetrics });
    this.pool = new BackendPool(
      { onState: (backend, status, reason) => this.onBackendState(backend, status, reason) },
      options.healthChecks !== false,
      this.logger,
    );
    this.pool.setHeadTimeoutHandler((_backend, w) => this.headTimeout(w));
    this.breakers = new RouteBreakers((route, backend, state) => {
      this.metrics.routeBreaker.set({ route, backend }, breakerLevel(state));
      this.logger.warn({ route, backend, state }, 'route breaker');
      this.events.emit('route-breaker', route, backend, state);
    });
    this.shadows = new ShadowManager({
      logger: this.logger,
      maxConcurrent: () => this.table.settings.shadowMaxConcurrent,
      maxSamples: () => this.table.settings.shadowMaxSamples,
      backend: (name) => this.pool.get(name),
      onResult: (event) => this.events.emit('shadow', event),
    });
    registerShadowMetrics(this.metrics.registry, this.shadows, options.cluster === true);
    this.store = options.redisUrl
      ? new RedisOverrideStore(
          options.redisUrl,
          options.redisPrefix ?? 'pilot:gateway:',
          this.instanceId,
          this.logger,
        )
      : options.cluster
        ? new ClusterOverrideStore(this.instanceId)
        : new MemoryOverrideStore(this.instanceId);
    if (options.cluster) {
      exposeWorkerRegistry(this.metrics.registry);
      serveWorker('stats', (args) => ({
        raws: this.metrics.rawWindows(Number(args.window)),
        shadow: this.shadows.snapshot(),
      }));
      serveShadowWorker(this.shadows, serveWorker);
    }
    this.ownHeaders = new Set(['x-request-id']);
    this.forward = createForward({
      target: (req) => {
        const ctx = (req as GwReq)[CTX]!;
        const agent = ctx.route.stream ? ctx.backend.streamAgent : ctx.backend.agent;
        return { url: ctx.backend.url, agent, body: ctx.tap };
      },
      onProxyReq: (proxyReq, req) => this.onProxyReq(proxyReq, req as GwReq),
      onProxyRes: (proxyRes, req, res) => this.onProxyRes(proxyRes, req as GwReq, res),
      onError: (err, req, res) => this.onError(err, req as GwReq, res),
    });
    this.server = http.createServer(
      // Host is required of HTTP/1.1 (requestSmell), so that the refusal is an envelope: Node's own is bare
      { maxHeaderSize: options.maxHeaderSize ?? 16 * 1024, requireHostHeader: false },
      (req, res) => this.handle(req as GwReq, res),
    );
    // Expect: 100-continue is answered only once the request passed the checks (413 before upload)
    this.server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) =>
      this.handle(req as GwReq, res, true),
    );
    this.server.keepAliveTimeout = 65_000;
    this.server.headersTimeout = 66_000;
    this.server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    // Never an open proxy: CONNECT is answered and the connection closed.
    this.server.on('connect', (_req: IncomingMessage, socket: Socket) => {
      this.metrics.rejected.labels('connect').inc();
      answerAndClose(socket, rawErrorResponse(405, 'METHOD_NOT_ALLOWED', 'CONNECT is not supported'));
    });
    // No 'upgrade' listener on purpose: Node then treats an Upgrade request (WebSocket, h2c) as a
    // plain request, whose Upgrade/Connection headers are stripped as hop-by-hop. Never tunnelled.
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
      const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
      this.metrics.rejected.labels(tooLarge ? 'header_too_large' : 'bad_request').inc();
      this.logger.debug({ code: err.code }, 'client error');
      answerAndClose(
        socket,
        tooLarge
          ? rawErrorResponse(431, 'HEADERS_TOO_LARGE', 'request head too large')
          : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
            ? rawErrorResponse(408, 'REQUEST_TIMEOUT', 'request not received in time')
            : rawErrorResponse(400, 'BAD_REQUEST', 'malformed HTTP request'),
      );
    });
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
    if (status === 'down') this.rescue(backend);
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
    this.metrics.reloads.labels('ok').inc();
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
    this.pool.sync(loaded.backends, this.graceMs(loaded));
    for (const name of loaded.backends.keys()) {
      const b = this.pool.get(name)!;
      this.metrics.backendUp.set({ backend: name }, b.healthy ? 1 : 0);
      this.metrics.setBreaker(name, breakerStateOf(b.outlier.status));
    }
    this.breakers.retain(
      new Map(table.routes.map((r) => [r.id, r.breaker])),
      new Set(loaded.backends.keys()),
    );
    this.backendHeader = table.settings.backendHeader.toLowerCase();
    this.ownHeaders = new Set(['x-request-id', this.backendHeader]);
    const previous = this.table?.version;
    this.table = table;
    this.metrics.setTable(
      table.version,
      table.fileVersion,
      table.routes.map((r) => ({ route: r.id, weights: r.weights })),
    );
    if (previous !== table.version) {
      this.logger.info(
        { version: table.version, fileVersion: table.fileVersion, reason },
        'route table active',
      );
    }
  }

  private graceMs(loaded: LoadedTable): number {
    let max = 0;
    for (const b of loaded.backends.values()) max = Math.max(max, b.config.timeoutMs, b.config.idleTimeoutMs);
    return Math.max(max, 5000) + 1000;
  }

  /** Re-reads the table file; an invalid file is refused and the active table keeps serving. */
  reload(reason = 'admin'): Promise<ReloadResult> {
    const run = this.reloading.then(async (): Promise<ReloadResult> => {
      try {
        const loaded = await loadTableFile(this.options.routesFile, this.options.env ?? {});
        this.loaded = loaded;
        this.install(loaded, reason);
        this.metrics.reloads.labels('ok').inc();
        this.lastReload = { at: new Date().toISOString(), ok: true, reason };
        this.events.emit('reload', { ok: true, version: this.table.version, reason });
        return { ok: true, version: this.table.version };
      } catch (error) {
        const e = error as Error;
        const issues = error instanceof TableError ? error.issues : undefined;
        this.metrics.reloads.labels('error').inc();
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

  // ---------------------------------------------------------------- admin actions

  route(id: string): CompiledRoute | undefined {
    return this.table.routes.find((r) => r.id === id);
  }

  /** Applies an admin change to a route: stored (Redis or memory), written back, applied, audited. */
  changeRoute(
    id: string,
    change: { weights?: Record<string, number>; shadowPaused?: boolean } | null,
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
          if (file) {
            const loaded = await loadTableFile(this.options.routesFile, this.options.env ?? {});
            this.loaded = loaded;
          }
        } catch (error) {
          this.logger.error({ err: (error as Error).message }, 'write-back to the table file failed');
        }
      }
      this.install(this.loaded, action);
      const after = this.route(id)!;
      this.metrics.adminActions.labels(action).inc();
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

  // ---------------------------------------------------------------- the request pipeline

  private reject(
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    code: string,
    message: string,
    reason: string,
  ): void {
    this.metrics.rejected.labels(reason).inc();
    // A refused body is read and dropped (bounded) so the client can read the answer: closing on
    // unread bytes makes the kernel send a reset, which can destroy the 413 before it is read.
    let close = status === 400;
    if (status === 413) {
      const declared = Number(req.headers['content-length'] ?? -1);
      close = declared > MAX_DRAIN_BYTES;
      if (!close) drainBounded(req);
    }
    if (this.options.accessLog !== false) {
      this.logger.info({ method: req.method, url: req.url, status, rejected: reason }, 'request');
    }
    const extra: Record<string, string> = { [this.backendHeader]: 'gateway' };
    if (status === 503) extra['retry-after'] = '1';
    sendError(res, status, code, message, close, extra);
  }

  private handle(req: GwReq, res: ServerResponse, expectsContinue = false): void {
    const start = performance.now();
    const norm = normalizeTarget(req.url ?? '');
    if (!norm.ok) {
      this.reject(req, res, 400, 'BAD_REQUEST_TARGET', norm.reason, 'bad_target');
      return;
    }
    const smuggle = requestSmell(req);
    if (smuggle) {
      this.reject(req, res, 400, 'BAD_REQUEST', smuggle, 'bad_request');
      return;
    }
    const method = req.method ?? 'GET';
    const table = this.table;
    const route = matchRoute(table.routes, norm.lower, method);
    if (!route) {
      this.reject(req, res, 404, 'NO_ROUTE', 'no route for this path and method', 'no_route');
      return;
    }

    const te = req.headers['transfer-encoding'];
    const cl = req.headers['content-length'];
    const bodyLength = te !== undefined ? -1 : cl !== undefined ? Number(cl) : 0;
    if (bodyLength > route.maxBodyBytes) {
      this.reject(
        req,
        res,
        413,
        'PAYLOAD_TOO_LARGE',
        `request body over ${route.maxBodyBytes} bytes`,
        'body_too_large',
      );
      return;
    }

    if (expectsContinue) res.writeContinue();

    const incomingId = req.headers['x-request-id'];
    const requestId =
      typeof incomingId === 'string' && REQUEST_ID.test(incomingId) ? incomingId : randomUUID();

    const choice = choose(route, req);
    const picked = this.select(route, choice.backend, method, bodyLength);
    if (!picked.backend) {
      this.metrics.recorder(route.id, choice.backend).record(503, performance.now() - start);
      this.reject(
        req,
        res,
        503,
        'BACKEND_UNAVAILABLE',
        `backend "${choice.backend}" is unavailable`,
        'unavailable',
      );
      return;
    }
    const backend = picked.backend;
    if (picked.reason) {
      this.metrics.fallbacks.labels(route.id, choice.backend, backend.name, picked.reason).inc();
    }

    prepareUpstreamHeaders(req, { requestId, trustProxy: table.settings.trustProxy });
    stripShadowHeader(req.headers);
    req.url = norm.path + norm.search;

    const ctx: Ctx = {
      start,
      requestId,
      table,
      route,
      backend,
      breaker: picked.breaker,
      method,
      bodyLength,
      attempt: picked.reason ? 1 : 0,
      fallbackFrom: picked.reason ? choice.backend : null,
      fallbackReason: picked.reason,
      setCookie: choice.setCookie,
      tap: undefined,
      shadow: null,
      proxyReq: null,
      sentAt: 0,
      headTimeoutMs: 0,
      slot: null,
      queued: null,
      timedOut: false,
      tooLarge: false,
      rescued: false,
      errorKind: null,
      reusedSocket: false,
      retried: false,
      traceId: undefined,
    };
    req[CTX] = ctx;
    const traced = traceRequest(req, res, ctx, choice);
    ctx.traceId = traced?.traceId;

    if (route.shadow) {
      const shadowTrace = route.shadow.paused ? undefined : traced?.shadow(req.headers, route.shadow.backend);
      ctx.shadow = this.shadows.mirror({
        route,
        served: backend,
        method,
        path: req.url,
        headers: shadowTrace?.headers ?? req.headers,
        requestId,
        bodyLength,
        onVerdict: shadowTrace?.verdict,
      });
    }
    if (bodyLength === -1 || (ctx.shadow?.hasBody ?? false)) {
      const shadow = ctx.shadow;
      const tap = new BodyTap(
        route.maxBodyBytes,
        shadow ? (c) => shadow.write(c) : undefined,
        shadow ? () => shadow.end() : undefined,
      );
      tap.on('error', () => {
        ctx.tooLarge = true;
        shadow?.abort('request body over the limit');
        ctx.proxyReq?.destroy();
        // still queued for a connection: nothing was sent, answer now
        if (ctx.queued) {
          ctx.queued.dead = true;
          ctx.queued = null;
          this.tooLarge(res, ctx);
        }
      });
      req.pipe(tap);
      ctx.tap = tap;
    }

    this.inFlight++;
    this.metrics.inFlightCount++;
    res.once('close', () => this.finish(req, res, ctx));
    this.dispatch(req, res, ctx);
  }

  /**
   * Where a request goes: the chosen backend, unless it is ejected or this route's breaker for it
   * is open; then an alternative (another backend of the split — nothing was sent yet, so any
   * method may move — or the fallback for idempotent, body-less requests). An open route breaker
   * with no alternative still sends the request to the backend: its own answer beats a gateway
   * 503 (Envoy's panic routing). An ejected backend with no alternative → 503.
   */
  private select(
    route: CompiledRoute,
    chosen: string,
    method: string,
    bodyLength: number,
  ):
    | { backend: Backend; breaker: RouteBreaker; reason: FallbackReason | null }
    | { backend: null; breaker: null; reason: null } {
    const now = Date.now();
    const primary = this.pool.get(chosen)!;
    const up = primary.admit(now);
    const breaker = this.breakers.get(route.id, primary.name, route.breaker);
    if (up && breaker.allow(now)) return { backend: primary, breaker, reason: null };
    for (const slot of route.slots) {
      const peer = this.pool.get(slot.backend);
      if (!peer || peer === primary || !peer.available(now)) continue;
      const peerBreaker = this.breakers.get(route.id, peer.name, route.breaker);
      if (peerBreaker.closed && peer.admit(now)) {
        return { backend: peer, breaker: peerBreaker, reason: up ? 'breaker' : 'unavailable' };
      }
    }
    if (route.fallback && mayFallback(method, bodyLength)) {
      const fb = this.pool.get(route.fallback);
      if (fb && fb !== primary && fb.available(now)) {
        const fbBreaker = this.breakers.get(route.id, fb.name, route.breaker);
        if (fbBreaker.allow(now) && fb.admit(now)) {
          return { backend: fb, breaker: fbBreaker, reason: up ? 'breaker' : 'unavailable' };
        }
      }
    }
    if (up) return { backend: primary, breaker, reason: null };
    return { backend: null, breaker: null, reason: null };
  }

  /** Takes a connection slot of the backend's budget (ordinary or stream), or queues for one. */
  private dispatch(req: GwReq, res: ServerResponse, ctx: Ctx): void {
    const budget = ctx.route.stream ? ctx.backend.streamBudget : ctx.backend.budget;
    if (budget.tryAcquire()) {
      ctx.slot = budget;
      this.send(req, res, ctx);
      return;
    }
    const queued: Queued = {
      queuedAt: Date.now(),
      dead: false,
      go: () => {
        ctx.queued = null;
        ctx.slot = budget;
        this.send(req, res, ctx);
      },
      expire: () => {
        ctx.queued = null;
        this.queueTimeout(req, res, ctx);
      },
    };
    ctx.queued = queued;
    budget.enqueue(queued);
  }

  private send(req: GwReq, res: ServerResponse, ctx: Ctx): void {
    if (ctx.tooLarge) {
      this.tooLarge(res, ctx);
      return;
    }
    ctx.proxyReq = null;
    ctx.sentAt = 0;
    ctx.timedOut = false;
    ctx.headTimeoutMs = ctx.route.timeoutMs ?? ctx.backend.config.timeoutMs;
    void this.forward(req, res);
  }

  /** No connection within queueTimeoutMs: the fallback, or a fast 503. Not the backend's failure. */
  private queueTimeout(req: GwReq, res: ServerResponse, ctx: Ctx): void {
    ctx.errorKind = 'queue';
    this.metrics.upstreamErrors.labels(ctx.route.id, ctx.backend.name, 'queue').inc();
    if (this.tryFallback(req, res, ctx, 'queue')) return;
    ctx.shadow?.setPrimary({ error: 'no connection to the backend in time' });
    sendError(
      res,
      503,
      'BACKEND_BUSY',
      `no connection to backend "${ctx.backend.name}" within ${ctx.backend.config.queueTimeoutMs} ms`,
      false,
      { [this.backendHeader]: 'gateway', 'x-request-id': ctx.requestId, 'retry-after': '1' },
    );
  }

  /** The response head is overdue: the request fails as a timeout (fallback or 504). */
  private headTimeout(w: Waiting): void {
    const ctx = w as Ctx;
    ctx.timedOut = true;
    ctx.proxyReq?.destroy(
      Object.assign(new Error(`no response within ${ctx.headTimeoutMs} ms`), { code: 'ETIMEDOUT' }),
    );
  }

  /** A backend was just ejected: idempotent requests still waiting on it move to the fallback. */
  private rescue(backend: Backend): void {
    for (const w of backend.waiting) {
      const ctx = w as Ctx;
      const fb = ctx.route.fallback ? this.pool.get(ctx.route.fallback) : undefined;
      if (ctx.attempt > 0 || !fb || fb === backend || !fb.available()) continue;
      if (!mayFallback(ctx.method, ctx.bodyLength)) continue;
      backend.waiting.delete(ctx);
      ctx.rescued = true;
      ctx.proxyReq?.destroy(
        Object.assign(new Error(`backend "${backend.name}" ejected`), { code: 'EJECTED' }),
      );
    }
  }

  private onProxyReq(proxyReq: ClientRequest, req: GwReq): void {
    const ctx = req[CTX]!;
    ctx.proxyReq = proxyReq;
    ctx.reusedSocket = proxyReq.reusedSocket;
    if (ctx.tooLarge) {
      proxyReq.destroy();
      return;
    }
    // a body-less request is sent with its head; one with a body once it is written (the sweep looks)
    ctx.sentAt = ctx.bodyLength === 0 ? Date.now() : 0;
    ctx.backend.waiting.add(ctx);
  }

  private onProxyRes(proxyRes: IncomingMessage, req: GwReq, res: ServerResponse): void {
    const ctx = req[CTX]!;
    const backend = ctx.backend;
    backend.waiting.delete(ctx);
    const now = Date.now();
    backend.lastProgress = now;
    backend.outlier.success();
    const status = proxyRes.statusCode ?? 502;
    ctx.breaker.record(status < 500, now);
    if (status >= 500 && this.tryFallback(req, res, ctx, '5xx')) {
      proxyRes.resume();
      return;
    }
    const extra = [this.backendHeader, backend.name, 'x-request-id', ctx.requestId];
    if (ctx.setCookie) extra.push('set-cookie', ctx.setCookie);
    res.writeHead(status, proxyRes.statusMessage, responseHeaders(proxyRes, extra, this.ownHeaders));
    const type = proxyRes.headers['content-type'];
    if (type?.startsWith('text/event-stream')) {
      res.flushHeaders();
      if (!ctx.route.stream && !this.streamWarned.has(ctx.route.id)) {
        this.streamWarned.add(ctx.route.id);
        this.logger.warn(
          { route: ctx.route.id },
          'route answers an event stream but is not marked stream: true; its streams use the ordinary connection budget',
        );
      }
    }
    const idle = ctx.route.idleTimeoutMs ?? backend.config.idleTimeoutMs;
    const proxyReq = ctx.proxyReq;
    if (idle > 0 && proxyReq) {
      proxyReq.setTimeout(idle, () => {
        ctx.timedOut = true;
        proxyReq.destroy(Object.assign(new Error(`upstream idle for ${idle} ms`), { code: 'ETIMEDOUT' }));
      });
    }
    ctx.shadow?.capturePrimary(proxyRes);
    proxyRes.pipe(res);
  }

  private tryFallback(req: GwReq, res: ServerResponse, ctx: Ctx, reason: FallbackReason): boolean {
    if (ctx.attempt > 0 || !ctx.route.fallback || res.headersSent || this.closing) return false;
    if (!mayFallback(ctx.method, ctx.bodyLength)) return false;
    const fb = this.pool.get(ctx.route.fallback);
    if (!fb || fb === ctx.backend || !fb.admit()) return false;
    this.metrics.fallbacks.labels(ctx.route.id, ctx.backend.name, fb.name, reason).inc();
    ctx.backend.waiting.delete(ctx);
    this.releaseSlot(ctx);
    ctx.fallbackFrom = ctx.backend.name;
    ctx.fallbackReason = reason;
    ctx.backend = fb;
    ctx.breaker = this.breakers.get(ctx.route.id, fb.name, ctx.route.breaker);
    ctx.attempt++;
    ctx.proxyReq = null;
    this.dispatch(req, res, ctx);
    return true;
  }

  private tooLarge(res: ServerResponse, ctx: Ctx): void {
    const req = res.req;
    req.unpipe();
    drainBounded(req);
    sendError(res, 413, 'PAYLOAD_TOO_LARGE', `request body over ${ctx.route.maxBodyBytes} bytes`, false, {
      [this.backendHeader]: 'gateway',
      'x-request-id': ctx.requestId,
    });
  }

  private onError(err: Error, req: GwReq, res: ServerResponse): void {
    const ctx = req[CTX];
    if (!ctx) {
      if (!res.headersSent) sendError(res, 502, 'BAD_GATEWAY', 'upstream error');
      return;
    }
    const backend = ctx.backend;
    backend.waiting.delete(ctx);
    if (ctx.tooLarge) {
      this.tooLarge(res, ctx);
      return;
    }
    // the client went away: not the backend's fault
    if (req.destroyed && !req.complete) {
      res.destroy();
      return;
    }
    if (ctx.rescued) {
      ctx.rescued = false;
      if (this.tryFallback(req, res, ctx, 'ejected')) return;
      ctx.errorKind = 'ejected';
      ctx.shadow?.setPrimary({ error: err.message });
      sendError(res, 503, 'BACKEND_UNAVAILABLE', `backend "${backend.name}" is unavailable`, false, {
        [this.backendHeader]: 'gateway',
        'x-request-id': ctx.requestId,
        'retry-after': '1',
      });
      return;
    }
    const kind = errorKind(err as NodeJS.ErrnoException, ctx.timedOut);
    ctx.errorKind = kind;
    // A keep-alive socket the backend had just closed: the request never reached it. Retry once
    // on a fresh connection when the request can be replayed; not the backend's failure.
    if (
      kind === 'reset' &&
      ctx.reusedSocket &&
      !ctx.retried &&
      !res.headersSent &&
      !this.closing &&
      mayFallback(ctx.method, ctx.bodyLength)
    ) {
      ctx.retried = true;
      ctx.proxyReq = null;
      this.metrics.upstreamErrors.labels(ctx.route.id, backend.name, 'stale_socket').inc();
      this.send(req, res, ctx);
      return;
    }
    if (!res.headersSent) {
      this.metrics.upstreamErrors.labels(ctx.route.id, backend.name, kind).inc();
      this.account(ctx, kind);
    }
    if (this.tryFallback(req, res, ctx, kind)) return;
    ctx.shadow?.setPrimary({ error: err.message });
    if (res.headersSent) {
      res.destroy();
      return;
    }
    const status = kind === 'timeout' ? 504 : 502;
    sendError(
      res,
      status,
      kind === 'timeout' ? 'UPSTREAM_TIMEOUT' : 'BAD_GATEWAY',
      kind === 'timeout'
        ? `backend "${backend.name}" did not answer within ${ctx.headTimeoutMs} ms`
        : `backend "${backend.name}" failed (${kind})`,
      false,
      { [this.backendHeader]: 'gateway', 'x-request-id': ctx.requestId },
    );
  }

  /**
   * Where a failure before the response counts. The backend (every route): it refused the
   * connection — it is not there. The route only: a timeout (the route's dependency may be
   * slow; a backend that answers nothing at all is the stall detector's case) and a reset (a
   * backend refusing one upload, or failing on one kind of request, says nothing about its
   * other routes; one that died answers the next connection with a refusal).
   */
  private account(ctx: Ctx, kind: 'connect' | 'timeout' | 'reset'): void {
    const now = Date.now();
    if (kind === 'connect') ctx.backend.outlier.gatewayFailure(now);
    else ctx.breaker.record(false, now);
  }

  private releaseSlot(ctx: Ctx): void {
    const slot = ctx.slot;
    if (slot) {
      ctx.slot = null;
      slot.release();
    }
  }

  private finish(req: GwReq, res: ServerResponse, ctx: Ctx): void {
    this.inFlight--;
    this.metrics.inFlightCount--;
    ctx.backend.waiting.delete(ctx);
    if (ctx.queued) {
      ctx.queued.dead = true;
      ctx.queued = null;
    }
    this.releaseSlot(ctx);
    const ms = performance.now() - ctx.start;
    const status = res.headersSent ? res.statusCode : 499;
    if (ctx.shadow) ctx.shadow.setPrimary({ error: res.writableFinished ? 'no capture' : 'client closed' });
    this.metrics.recorder(ctx.route.id, ctx.backend.name).record(status, ms, ctx.traceId);
    if (this.options.accessLog !== false) {
      this.logger.info(
        {
          reqId: ctx.requestId,
          method: ctx.method,
          path: req.url,
          route: ctx.route.id,
          backend: ctx.backend.name,
          status,
          ms: Math.round(ms * 100) / 100,
          fallbackFrom: ctx.fallbackFrom ?? undefined,
          fallbackReason: ctx.fallbackReason ?? undefined,
          shadow: ctx.shadow ? ctx.route.shadow!.backend : undefined,
          error: ctx.errorKind ?? undefined,
        },
        'request',
      );
    }
    if (this.closing && this.inFlight === 0) this.events.emit('drained');
  }

  // ---------------------------------------------------------------- lifecycle

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
    if (this.closing) return;
    this.closing = true;
    this.watcher?.close();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    if (this.inFlight > 0) {
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
    this.pool.close();
    this.shadows.close();
    await this.store.close();
  }
}

/**
 * What Node's parser lets through but a proxy must not pass on: HTTP/0.9, HTTP/1.1 without Host, a Transfer-Encoding
 * other than exactly `chunked` (Node emits the request before it fails on the body), both
 * framings at once, and more than one Host.
 */
function requestSmell(req: IncomingMessage): string | null {
  if (req.httpVersionMajor !== 1) return 'unsupported HTTP version';
  if (req.httpVersionMinor === 1 && req.headers.host === undefined) return 'HTTP/1.1 request without Host';
  const te = req.headers['transfer-encoding'];
  if (te !== undefined) {
    if (te.toLowerCase() !== 'chunked') return 'unsupported Transfer-Encoding';
    if (req.headers['content-length'] !== undefined) return 'both Content-Length and Transfer-Encoding';
  }
  const raw = req.rawHeaders;
  let hosts = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const k = raw[i]!;
    if (k.length === 4 && k.toLowerCase() === 'host' && ++hosts > 1) return 'more than one Host header';
  }
  return null;
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

function breakerLevel(state: BreakerState): number {
  return state === 'closed' ? 0 : state === 'half-open' ? 1 : 2;
}
