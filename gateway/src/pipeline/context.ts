import type { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Transform } from 'node:stream';
import type { Logger } from 'pino';
import type { GatewayMetrics } from '../metrics.ts';
import type { ShadowManager, ShadowRun } from '../shadow/mirror.ts';
import type { CompiledRoute, Table } from '../table.ts';
import type { Backend, BackendPool, Budget, Queued, Waiting } from './backends.ts';
import type { RouteBreaker, RouteBreakers } from './route-breaker.ts';
import type { RequestTrace } from './tracing.ts';

/**
 * What the steps of the request path share: the snapshot, the per-request context and the
 * pipeline's state. Types only, so every step can import them and none imports another's
 * wiring (no cycles).
 */

/**
 * The table as the request path uses it: the control plane's immutable table plus what the
 * steps derive from it once per install instead of once per request. Replaced whole, never
 * changed; a request reads it once, when it arrives.
 */
export interface Snapshot {
  readonly table: Table;
  /** settings.backendHeader, lower-cased. */
  readonly backendHeader: string;
  /** Response headers the gateway sets itself; a backend's copies are dropped. */
  readonly ownHeaders: ReadonlySet<string>;
}

/** See fallback.ts for when each applies. */
export type FallbackReason =
  | 'connect'
  | 'timeout'
  | 'reset'
  | '5xx'
  | 'unavailable'
  | 'breaker'
  | 'queue'
  | 'ejected';

/** One request's state from arrival to the response's close; the steps read and update it. */
export interface RequestContext extends Waiting {
  start: number;
  requestId: string;
  /** The table snapshot this request started with; it keeps it to the end. */
  snapshot: Snapshot;
  route: CompiledRoute;
  backend: Backend;
  /** This route's breaker for `backend`. */
  breaker: RouteBreaker;
  method: string;
  /** Declared Content-Length; -1: chunked; 0: none. */
  bodyLength: number;
  /** 0 for the first backend, 1 once moved to the fallback. */
  attempt: number;
  fallbackFrom: string | null;
  fallbackReason: FallbackReason | null;
  setCookie: string | undefined;
  /** The body tap (body-tap.ts) the upstream request reads instead of the client's request. */
  tap: Transform | undefined;
  shadow: ShadowRun | null;
  /** The connection budget slot this request holds (released when it ends or moves). */
  slot: Budget | null;
  /** Waiting for a slot. */
  queued: Queued | null;
  /** The current attempt's response, once its head arrived. */
  response: IncomingMessage | null;
  timedOut: boolean;
  tooLarge: boolean;
  /** Taken off a backend that was just ejected; goes to the fallback. */
  rescued: boolean;
  errorKind: string | null;
  reusedSocket: boolean;
  retried: boolean;
  /** The client's response has closed (answered, or the client went away): nothing more to do. */
  closed: boolean;
  /** This request's trace (undefined with tracing off): its span, shadow trace, exemplar id. */
  trace: RequestTrace | undefined;
}

/** The access log (access-log.ts). */
export interface AccessLogWriter {
  served(ctx: RequestContext, path: string | undefined, status: number, ms: number): void;
  refused(method: string | undefined, url: string | undefined, status: number, reason: string): void;
}

/** The rate-limit step (rate-limit.ts): `next()` once the request may go on, else it answered 429. */
export interface LimitStep {
  admit(
    req: IncomingMessage,
    res: ServerResponse,
    table: Table,
    route: CompiledRoute,
    next: () => void,
  ): void;
}

/**
 * The state the steps share: the running backends and breakers, metrics, the shadow, the access
 * log and the active snapshot. Built and owned by DataPlane (data-plane.ts).
 */
export interface PipelineState {
  readonly logger: Logger;
  readonly events: EventEmitter;
  readonly metrics: GatewayMetrics;
  readonly pool: BackendPool;
  readonly breakers: RouteBreakers;
  readonly shadows: ShadowManager;
  /** The rate-limit step (rate-limit.ts): counters in Redis or in the process. */
  readonly limits: LimitStep;
  /** null: the access log is off. */
  readonly accessLog: AccessLogWriter | null;
  readonly snapshot: Snapshot;
  /** Requests between arrival and the response's close. */
  inFlight: number;
  /** Routes already warned about for answering an event stream without `stream: true`. */
  readonly streamWarned: Set<string>;
  /** Shutting down: no fallback or retry starts any more. */
  readonly closing: boolean;
}

const CTX = Symbol('gateway.ctx');
type WithContext = IncomingMessage & { [CTX]?: RequestContext };

export function contextOf(req: IncomingMessage): RequestContext | undefined {
  return (req as WithContext)[CTX];
}

export function attachContext(req: IncomingMessage, ctx: RequestContext): void {
  (req as WithContext)[CTX] = ctx;
}
