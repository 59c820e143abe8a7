import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { PassThrough } from 'node:stream';
import type { Logger } from 'pino';
import { type Dispatcher, Pool } from 'undici';
import { SAFE_METHODS } from '../config/schema.ts';
import type { Backend } from '../pipeline/backends.ts';
import type { CompiledRoute } from '../table.ts';
import { type CapturedResponse, compareResponses } from './diff.ts';
import { NoiseModel } from './noise.ts';
import { type SampleSide, SampleStore, type ShadowSample } from './samples.ts';
import {
  type DropReason,
  type NotComparedReason,
  RouteShadowStats,
  type RouteShadowSnapshot,
} from './stats.ts';

/**
 * Shadowing: the served backend answers the client; a copy of the request goes to the shadow
 * backend on its own connection pool, and when both responses are complete they are compared.
 *
 * - The mirror never touches the client's response: the copy of the body is written without
 *   waiting for backpressure, the mirror has its own deadline, and when `shadowMaxConcurrent`
 *   mirrors are already in flight (or the body is over the route's `maxBodyBytes`) it is
 *   dropped, not queued.
 * - Safe by design: only safe methods are mirrored unless the route says `mirrorWrites: true`
 *   (the table validator refuses unsafe methods otherwise, and this module checks again); every
 *   mirrored request carries `x-pilot-shadow: 1`, which the backends honour by answering as they
 *   would while writing nothing; the gateway removes that header from client requests
 *   (stripShadowHeader), so no client can use it to skip a write.
 * - Noise learning (`noise: learn`): a sampled fraction of safe, body-less requests is also sent
 *   a second time to the served backend (on this module's pool, marked as a mirror too), and
 *   the differences between the two served answers teach the route's NoiseModel.
 */
export const SHADOW_HEADER = 'x-pilot-shadow';
/**
 * When the gateway received the mirrored request (ms since the epoch). A backend's dry run uses
 * it to tell the served backend's write of this very request (made after it) from an earlier
 * one (a real duplicate, a real token reuse).
 */
export const SHADOW_AT_HEADER = 'x-pilot-shadow-at';

const SAMPLE_BODY_CHARS = 64 * 1024;

/** Removes the mirror markers from a client's request: only the gateway may set them. */
export function stripShadowHeader(headers: IncomingHttpHeaders): void {
  if (headers[SHADOW_HEADER] !== undefined) delete headers[SHADOW_HEADER];
  if (headers[SHADOW_AT_HEADER] !== undefined) delete headers[SHADOW_AT_HEADER];
}

export type Outcome = CapturedResponse | { error: string; timeout: boolean };
export type PrimaryOutcome = CapturedResponse | { error: string } | { streaming: true };

export interface ShadowEvent {
  route: string;
  result: 'match' | 'mismatch' | 'not_compared' | 'dropped_concurrency' | 'dropped_body';
  reason?: NotComparedReason;
  sample?: ShadowSample;
}

export interface MirrorRequest {
  route: CompiledRoute;
  /** The backend that serves the client. */
  served: Backend;
  method: string;
  /** Path and query as forwarded. */
  path: string;
  /** The request's headers as forwarded (after hop-by-hop stripping). */
  headers: IncomingHttpHeaders;
  requestId: string;
  /** Declared request body length, or -1 for chunked, 0 for none. */
  bodyLength: number;
  /** When the gateway received it (ms since the epoch); default: now. */
  receivedAt?: number;
  /** Told how this mirror ended (the event onResult gets): the shadow trace's verdict. */
  onVerdict?: (event: ShadowEvent) => void;
}

/**
 * Request headers never copied to a mirror: those undici sets itself or refuses (hop-by-hop,
 * framing), and those the mirror sets (its Host, the shadow marks).
 */
const NOT_FORWARDED = new Set([
  'host',
  SHADOW_HEADER,
  SHADOW_AT_HEADER,
  'connection',
  'keep-alive',
  'transfer-encoding',
  'upgrade',
  'expect',
  'te',
  'trailer',
]);

/**
 * One outbound request whose answer is captured up to a size limit, with its own deadline. A
 * dispatch handler on undici's lowest level (its own connection pool per backend): no response
 * stream object, no AbortController, the least the gateway can spend on the extra exchange
 * that every mirrored request costs it.
 */
class Exchange implements Dispatcher.DispatchHandler {
  private readonly timer: NodeJS.Timeout;
  private readonly body: PassThrough | null;
  private readonly limit: number;
  private readonly onDone: (o: Outcome) => void;
  private controller: Dispatcher.DispatchController | null = null;
  private abortReason: Error | null = null;
  private status = 0;
  private headers: CapturedResponse['headers'] = {};
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private truncated = false;
  private done = false;

  constructor(
    pool: Dispatcher,
    target: Backend,
    method: string,
    path: string,
    headers: IncomingHttpHeaders,
    limit: number,
    timeoutMs: number,
    withBody: boolean,
    receivedAt: number,
    onDone: (o: Outcome) => void,
  ) {
    this.onDone = onDone;
    this.limit = limit;
    // a flat list (name, value, …): undici reads it as it is, where an object would be listed
    // with Object.keys (and this copy of one would go to dictionary mode)
    const out: string[] = [];
    for (const name in headers) {
      const value = headers[name];
      if (value === undefined || NOT_FORWARDED.has(name)) continue;
      if (typeof value === 'string') out.push(name, value);
      else for (const v of value) out.push(name, v);
    }
    out.push('host', target.host, SHADOW_HEADER, '1', SHADOW_AT_HEADER, String(receivedAt));
    // the body is written as it arrives, never awaited: the client's request does not wait
    this.body = withBody ? new PassThrough() : null;
    this.timer = setTimeout(
      () =>
        this.abort(Object.assign(new Error(`shadow timed out after ${timeoutMs} ms`), { code: 'ETIMEDOUT' })),
      timeoutMs,
    );
    this.timer.unref();
    try {
      pool.dispatch(
        {
          origin: target.origin,
          path,
          method: method as Dispatcher.HttpMethod,
          headers: out,
          body: this.body,
        },
        this,
      );
    } catch (error) {
      this.onResponseError(null, error as Error);
    }
  }

  get finished(): boolean {
    return this.done;
  }

  write(chunk: Buffer): void {
    if (!this.done) this.body?.write(chunk);
  }

  end(): void {
    if (!this.done) this.body?.end();
  }

  abort(reason: Error | string): void {
    if (this.done || this.abortReason) return;
    this.abortReason = typeof reason === 'string' ? new Error(reason) : reason;
    if (this.controller) this.controller.abort(this.abortReason);
    else this.finish(this.failure(this.abortReason));
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.abortReason) controller.abort(this.abortReason);
  }

  onResponseStart(
    _c: Dispatcher.DispatchController,
    statusCode: number,
    headers: CapturedResponse['headers'],
  ): void {
    this.status = statusCode;
    this.headers = headers;
  }

  onResponseData(_c: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.truncated) return;
    this.size += chunk.length;
    if (this.size > this.limit) {
      this.truncated = true;
      this.chunks.length = 0;
    } else this.chunks.push(chunk);
  }

  onResponseEnd(): void {
    this.finish({
      status: this.status,
      headers: this.headers,
      body: Buffer.concat(this.chunks),
      truncated: this.truncated,
    });
  }

  onResponseError(_c: Dispatcher.DispatchController | null, error: Error): void {
    this.finish(this.failure(this.abortReason ?? error));
  }

  private failure(e: Error): Outcome {
    return { error: e.message, timeout: (e as NodeJS.ErrnoException).code === 'ETIMEDOUT' };
  }

  private finish(o: Outcome): void {
    if (this.done) return;
    this.done = true;
    clearTimeout(this.timer);
    this.body?.destroy();
    this.onDone(o);
  }
}

/** Buffers a response body up to `limit` bytes; past it, keeps nothing and says so. */
function collect(res: IncomingMessage, limit: number) {
  const chunks: Buffer[] = [];
  let size = 0;
  let truncated = false;
  res.on('data', (c: Buffer) => {
    if (truncated) return;
    size += c.length;
    if (size > limit) {
      truncated = true;
      chunks.length = 0;
    } else chunks.push(c);
  });
  return { chunks, result: () => ({ truncated }) };
}

function isEventStream(headers: IncomingHttpHeaders): boolean {
  const type = headers['content-type'];
  return typeof type === 'string' && type.toLowerCase().startsWith('text/event-stream');
}

export class ShadowRun {
  readonly hasBody: boolean;
  private readonly mgr: ShadowManager;
  private readonly start: MirrorRequest & { receivedAt: number };
  private readonly shadow: Exchange;
  private readonly twin: Exchange | null;
  private readonly limit: number;
  private sent = 0;
  private shadowResult: Outcome | undefined;
  private twinResult: Outcome | undefined;
  private primary: PrimaryOutcome | undefined;
  private completed = false;
  private overLimit = false;

  constructor(
    mgr: ShadowManager,
    start: MirrorRequest & { receivedAt: number },
    shadowBackend: Backend,
    learn: boolean,
  ) {
    this.mgr = mgr;
    this.start = start;
    const cfg = start.route.shadow!;
    this.limit = cfg.maxBodyBytes;
    this.hasBody = start.bodyLength !== 0;
    mgr.inFlight++;
    this.shadow = new Exchange(
      mgr.poolFor(shadowBackend),
      shadowBackend,
      start.method,
      start.path,
      start.headers,
      this.limit,
      cfg.timeoutMs,
      this.hasBody,
      start.receivedAt,
      (o) => {
        mgr.inFlight--;
        this.shadowResult = o;
        this.finish();
      },
    );
    if (learn) {
      mgr.inFlight++;
      this.twin = new Exchange(
        mgr.poolFor(start.served),
        start.served,
        start.method,
        start.path,
        start.headers,
        this.limit,
        cfg.timeoutMs,
        false,
        start.receivedAt,
        (o) => {
          mgr.inFlight--;
          this.twinResult = o;
          this.finish();
        },
      );
    } else this.twin = null;
  }

  /** Tee of the request body: written without waiting (the client never waits for the mirror). */
  write(chunk: Buffer): void {
    if (this.shadow.finished) return;
    this.sent += chunk.length;
    if (this.sent > this.limit) {
      // a chunked body that turned out too large: a drop, not a shadow failure
      this.overLimit = true;
      this.shadow.abort('request body over the shadow limit');
      return;
    }
    this.shadow.write(chunk);
  }

  end(): void {
    this.shadow.end();
  }

  abort(reason: string): void {
    this.shadow.abort(reason);
    this.twin?.abort(reason);
  }

  /**
   * Captures the served backend's answer as it streams to the client (listeners only: the
   * caller pipes it). A stream (SSE) is not captured: the mirror is ended at once.
   */
  capturePrimary(res: IncomingMessage): void {
    if (isEventStream(res.headers)) {
      this.abort('streaming answer: not compared');
      this.setPrimary({ streaming: true });
      return;
    }
    const status = res.statusCode ?? 0;
    const { chunks, result } = collect(res, this.limit);
    res.on('end', () =>
      this.setPrimary({ status, headers: res.headers, body: Buffer.concat(chunks), ...result() }),
    );
  }

  /** The served side's outcome; the first one wins (later calls from cleanup are ignored). */
  setPrimary(primary: PrimaryOutcome): void {
    if (this.primary) return;
    this.primary = primary;
    this.finish();
  }

  private finish(): void {
    if (this.completed || !this.shadowResult || !this.primary) return;
    if (this.twin && !this.twinResult) return;
    this.completed = true;
    if (this.overLimit) {
      this.mgr.dropLate(this.start.route.id);
      this.start.onVerdict?.({ route: this.start.route.id, result: 'dropped_body' });
    } else this.mgr.complete(this.start, this.primary, this.shadowResult, this.twinResult);
  }
}

interface RouteState {
  stats: RouteShadowStats;
  noise: NoiseModel;
}

export class ShadowManager {
  inFlight = 0;
  readonly samples: SampleStore;
  private readonly routes = new Map<string, RouteState>();
  private readonly maxConcurrent: () => number;
  private readonly backend: (name: string) => Backend | undefined;
  private readonly logger: Logger;
  private readonly pools = new Map<string, Pool>();
  private readonly onResult: (event: ShadowEvent) => void;

  constructor(options: {
    logger: Logger;
    maxConcurrent: () => number;
    maxSamples: () => number;
    /** Looks up a backend of the active table by name. */
    backend: (name: string) => Backend | undefined;
    onResult?: (event: ShadowEvent) => void;
  }) {
    this.logger = options.logger;
    this.maxConcurrent = options.maxConcurrent;
    this.backend = options.backend;
    this.samples = new SampleStore(options.maxSamples);
    this.onResult = options.onResult ?? (() => {});
  }

  /** The mirrors' own connection pool to a backend (never the served traffic's sockets). */
  poolFor(backend: Backend): Dispatcher {
    const key = backend.origin;
    let pool = this.pools.get(key);
    if (!pool) {
      // a Pool per origin (what an Agent would keep, without its lookup per request)
      pool = new Pool(key, { connections: Math.max(1, this.maxConcurrent()), keepAliveTimeout: 2_000 });
      this.pools.set(key, pool);
    }
    return pool;
  }

  private state(route: string): RouteState {
    let s = this.routes.get(route);
    if (!s) {
      s = { stats: new RouteShadowStats(), noise: new NoiseModel() };
      this.routes.set(route, s);
    }
    return s;
  }

  stats(route: string): RouteShadowStats {
    return this.state(route).stats;
  }

  noise(route: string): NoiseModel {
    return this.state(route).noise;
  }

  /**
   * Mirrors the request when the route's shadow applies to it (not paused, method listed, not
   * the backend that serves it, within `percent`); returns null when it is not mirrored.
   */
  mirror(req: MirrorRequest): ShadowRun | null {
    const cfg = req.route.shadow;
    if (!cfg || cfg.paused || cfg.backend === req.served.name) return null;
    if (!cfg.methods.includes(req.method as never)) return null;
    if (!SAFE_METHODS.has(req.method) && !cfg.mirrorWrites) return null;
    if (cfg.percent < 100 && Math.random() * 100 >= cfg.percent) return null;
    const target = this.backend(cfg.backend);
    if (!target) return null;
    const stats = this.stats(req.route.id);
    if (this.inFlight >= this.maxConcurrent()) return this.drop(req.route.id, stats, 'concurrency', req);
    if (req.bodyLength > cfg.maxBodyBytes) return this.drop(req.route.id, stats, 'body', req);
    const learn =
      cfg.noise.mode === 'learn' &&
      SAFE_METHODS.has(req.method) &&
      req.bodyLength === 0 &&
      this.inFlight + 2 <= this.maxConcurrent() &&
      Math.random() < cfg.noise.sampleRate;
    stats.mirrored++;
    return new ShadowRun(this, { ...req, receivedAt: req.receivedAt ?? Date.now() }, target, learn);
  }

  /** A mirror abandoned after it started (its chunked body went over the limit). */
  dropLate(route: string): void {
    this.drop(route, this.stats(route), 'body');
  }

  private drop(route: string, stats: RouteShadowStats, reason: DropReason, req?: MirrorRequest): null {
    stats.dropped[reason]++;
    const event: ShadowEvent = { route, result: reason === 'body' ? 'dropped_body' : 'dropped_concurrency' };
    this.onResult(event);
    req?.onVerdict?.(event);
    return null;
  }

  complete(start: MirrorRequest, primary: PrimaryOutcome, shadow: Outcome, twin: Outcome | undefined): void {
    const emit = (event: ShadowEvent) => {
      this.onResult(event);
      start.onVerdict?.(event);
    };
    const route = start.route;
    const cfg = route.shadow!;
    const { stats, noise } = this.state(route.id);
    const notCompared = (reason: NotComparedReason) => {
      stats.notCompared[reason]++;
      emit({ route: route.id, result: 'not_compared', reason });
    };
    if ('error' in primary || 'streaming' in primary) {
      notCompared('error' in primary ? 'primary_error' : 'streaming');
      return;
    }
    if ('error' in shadow) {
      notCompared(shadow.timeout ? 'shadow_timeout' : 'shadow_error');
      return;
    }
    if (twin && !('error' in twin)) {
      const pair = compareResponses(primary, twin, {
        compareHeaders: cfg.compareHeaders,
        ignore: cfg.ignoreTests,
        maxDifferences: 500,
      });
      if (pair.compared) noise.learn(pair.differences);
    }
    if (cfg.noise.mode === 'learn' && noise.pairs < cfg.noise.warmupPairs) {
      notCompared('learning_noise');
      return;
    }
    const result = compareResponses(primary, shadow, {
      compareHeaders: cfg.compareHeaders,
      ignore: cfg.ignoreTests,
      isNoise: (p) => noise.isNoise(p),
    });
    if (!result.compared) {
      notCompared(result.reason);
      return;
    }
    if (result.differences.length === 0) {
      stats.matched++;
      emit({ route: route.id, result: 'match' });
      return;
    }
    const sample: ShadowSample = {
      id: `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`,
      route: route.id,
      at: new Date().toISOString(),
      method: start.method,
      path: start.path,
      requestId: start.requestId,
      primary: side(start.served.name, primary, cfg.compareHeaders),
      shadow: side(cfg.backend, shadow, cfg.compareHeaders),
      differences: result.differences,
    };
    stats.recordMismatch(result.differences, {
      at: sample.at,
      method: sample.method,
      path: sample.path,
      requestId: sample.requestId,
      sampleId: sample.id,
    });
    this.samples.add(sample);
    this.logger.debug(
      { route: route.id, requestId: start.requestId, differences: result.differences.length },
      'shadow mismatch',
    );
    emit({ route: route.id, result: 'mismatch', sample });
  }

  /** Forgets a route's counts, ranked paths and samples (learned noise stays). */
  reset(route: string): void {
    this.state(route).stats = new RouteShadowStats();
    this.samples.clear(route);
  }

  /** Every route's numbers, as plain data (mergeable across cluster workers). */
  snapshot(): Record<string, RouteShadowSnapshot> {
    const out: Record<string, RouteShadowSnapshot> = {};
    for (const [id, s] of this.routes) out[id] = s.stats.snapshot();
    return out;
  }

  routeIds(): string[] {
    return [...this.routes.keys()];
  }

  close(): void {
    for (const pool of this.pools.values()) void pool.destroy().catch(() => {});
    this.pools.clear();
  }
}

function side(backend: string, r: CapturedResponse, headerNames: readonly string[]): SampleSide {
  const headers: Record<string, string | string[] | undefined> = {};
  for (const h of new Set(['content-type', ...headerNames])) headers[h] = r.headers[h];
  const text = r.body.toString('utf8');
  return {
    backend,
    status: r.status,
    headers,
    body: text.length > SAMPLE_BODY_CHARS ? text.slice(0, SAMPLE_BODY_CHARS) : text,
    truncated: r.truncated || text.length > SAMPLE_BODY_CHARS,
  };
}
