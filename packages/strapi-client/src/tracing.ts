import {
  type Context,
  context,
  createContextKey,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import type { StrapiError } from './errors.ts';
import type { BreakerState, CacheEvent, EventHub, UpstreamEvent } from './events.ts';

/**
 * Spans for the client, through @opentelemetry/api only (the application decides whether an
 * SDK is installed; without one every call below is the API's no-op). A span is made only
 * inside a recorded span (a traced request): background work and untraced requests cost a
 * context lookup.
 *
 * - `strapi-client <op> <type>` per read: which cache tier answered (`pilot.cache.tier`: l1,
 *   l2, stale, coalesced, upstream, bypass), from the cache events the read emits in its own
 *   async context;
 * - `strapi <METHOD> <path>` per transport request: attempts (`strapi.retries`), the breaker's
 *   state when it ended, the error code. Its HTTP calls (one per attempt) are the fetch
 *   instrumentation's spans beneath it, which carry `traceparent` to Strapi.
 */
const tracer = trace.getTracer('@pilot/strapi-client');

interface ReadState {
  tier: string | undefined;
}
interface RequestState {
  attempts: number;
}
const READ = createContextKey('pilot.strapi-client.read');
const REQUEST = createContextKey('pilot.strapi-client.request');

function recordingParent(): Context | undefined {
  const active = context.active();
  return trace.getSpan(active)?.isRecording() ? active : undefined;
}

function tierOf(event: CacheEvent): string {
  if (event.result === 'hit') return event.layer ?? 'l1';
  if (event.result === 'miss') return 'upstream';
  return event.result;
}

function fail(span: Span, error: unknown): void {
  const code = (error as StrapiError | undefined)?.code;
  if (code) span.setAttribute('strapi.error_code', code);
  span.recordException(error as Error);
  span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error | undefined)?.message });
}

/** Listens to the client's own events to annotate the span of the read or request they belong to. */
export function attachTracing(events: EventHub): void {
  events.on('cache', (event) => {
    const state = context.active().getValue(READ) as ReadState | undefined;
    if (state && state.tier === undefined) state.tier = tierOf(event);
  });
  events.on('upstream', (event: UpstreamEvent) => {
    const state = context.active().getValue(REQUEST) as RequestState | undefined;
    if (state) state.attempts = Math.max(state.attempts, event.attempt + 1);
  });
}

/** A read answered from L1 without an await (the hot path): a span only inside a traced request. */
export function traceL1Hit(operation: string, type: string): void {
  const parent = recordingParent();
  if (!parent) return;
  tracer
    .startSpan(
      `strapi-client ${operation} ${type}`,
      { kind: SpanKind.INTERNAL, attributes: { 'strapi.type': type, 'pilot.cache.tier': 'l1' } },
      parent,
    )
    .end();
}

/** Runs a cached read inside its span. */
export function traceRead<R>(operation: string, type: string, run: () => Promise<R>): Promise<R> {
  const parent = recordingParent();
  if (!parent) return run();
  const span = tracer.startSpan(
    `strapi-client ${operation} ${type}`,
    { kind: SpanKind.INTERNAL, attributes: { 'strapi.type': type } },
    parent,
  );
  const state: ReadState = { tier: undefined };
  return context.with(trace.setSpan(parent, span).setValue(READ, state), run).then(
    (result) => {
      span.setAttribute('pilot.cache.tier', state.tier ?? 'upstream');
      span.end();
      return result;
    },
    (error: unknown) => {
      if (state.tier) span.setAttribute('pilot.cache.tier', state.tier);
      fail(span, error);
      span.end();
      throw error;
    },
  );
}

/** Runs one transport request (all its attempts) inside its span. */
export function traceRequest<R>(
  method: string,
  path: string,
  breaker: () => BreakerState,
  run: () => Promise<R>,
): Promise<R> {
  const parent = recordingParent();
  if (!parent) return run();
  const span = tracer.startSpan(
    `strapi ${method} ${path}`,
    { kind: SpanKind.INTERNAL, attributes: { 'http.request.method': method, 'strapi.path': path } },
    parent,
  );
  const state: RequestState = { attempts: 0 };
  const done = () => {
    span.setAttribute('strapi.attempts', state.attempts);
    span.setAttribute('strapi.retries', Math.max(0, state.attempts - 1));
    span.setAttribute('strapi.breaker', breaker());
    span.end();
  };
  return context.with(trace.setSpan(parent, span).setValue(REQUEST, state), run).then(
    (result) => {
      done();
      return result;
    },
    (error: unknown) => {
      fail(span, error);
      done();
      throw error;
    },
  );
}
