import type { BreakerState, StrapiClient } from '@pilot/strapi-client';
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { LATENCY_BUCKETS } from './metrics.ts';
import { Tally, type TallySlot } from './tally.ts';

const BREAKER_STATES: BreakerState[] = ['closed', 'open', 'half-open', 'isolated'];

interface StrapiMetricSet {
  upstreamRequests: Counter<'client' | 'method' | 'status'>;
  upstreamDuration: Histogram<'client' | 'method'>;
  cacheEvents: Counter<'client' | 'kind'>;
  /** cache_events_total's counts, added when it is read (one per cache lookup: the hot one) */
  cacheCounts: Tally<'client' | 'kind'>;
  invalidations: Counter<'client' | 'source'>;
  breaker: Gauge<'client' | 'state'>;
}

/** One metric set per registry, so several clients (read, write) can report into it. */
const sets = new WeakMap<Registry, StrapiMetricSet>();

function metricsFor(registry: Registry): StrapiMetricSet {
  let set = sets.get(registry);
  if (set) return set;
  const registers = [registry];
  const cacheCounts = new Tally<'client' | 'kind'>();
  set = {
    upstreamRequests: new Counter({
      name: 'strapi_upstream_requests_total',
      help: 'Requests sent to Strapi (every attempt), by method and HTTP status (or error code when there was no answer).',
      labelNames: ['client', 'method', 'status'] as const,
      registers,
    }),
    upstreamDuration: new Histogram({
      name: 'strapi_upstream_duration_seconds',
      help: 'Latency of requests to Strapi (every attempt).',
      labelNames: ['client', 'method'] as const,
      buckets: LATENCY_BUCKETS,
      registers,
    }),
    cacheEvents: new Counter({
      name: 'cache_events_total',
      help: 'Strapi client cache lookups by outcome: hit, miss, stale, coalesced, bypass.',
      labelNames: ['client', 'kind'] as const,
      registers,
      collect() {
        cacheCounts.flush(this);
      },
    }),
    cacheCounts,
    invalidations: new Counter({
      name: 'cache_invalidations_total',
      help: 'Cache tag invalidations, by source: local (this instance), remote (bus), resync.',
      labelNames: ['client', 'source'] as const,
      registers,
    }),
    breaker: new Gauge({
      name: 'strapi_breaker_state',
      help: 'Circuit breaker towards Strapi: 1 for the current state, 0 for the others.',
      labelNames: ['client', 'state'] as const,
      registers,
    }),
  };
  sets.set(registry, set);
  return set;
}

/**
 * Feeds Prometheus metrics from a Strapi client's hooks into an app's registry:
 * `strapi_upstream_requests_total{client,method,status}`, `strapi_upstream_duration_seconds`,
 * `cache_events_total{client,kind}` (hit/miss/stale/coalesced/bypass),
 * `cache_invalidations_total{client,source}` and `strapi_breaker_state{client,state}`.
 * `client` tells the read client from the write client. Returns a function that detaches.
 */
export function attachStrapiMetrics(
  registry: Registry,
  client: StrapiClient,
  options: { client?: string } = {},
): () => void {
  const m = metricsFor(registry);
  const name = options.client ?? 'read';
  const setBreaker = (state: BreakerState) => {
    for (const s of BREAKER_STATES) m.breaker.set({ client: name, state: s }, s === state ? 1 : 0);
  };
  setBreaker(client.status().breaker);
  const cacheSlots = new Map<string, TallySlot>();
  const off = [
    client.on('upstream', (event) => {
      const status = event.status !== undefined ? String(event.status) : (event.errorCode ?? 'error');
      m.upstreamRequests.inc({ client: name, method: event.method, status });
      m.upstreamDuration.observe({ client: name, method: event.method }, event.durationMs / 1000);
    }),
    client.on('cache', (event) => {
      let slot = cacheSlots.get(event.result);
      if (!slot) {
        slot = m.cacheCounts.slot({ client: name, kind: event.result });
        cacheSlots.set(event.result, slot);
      }
      slot.n++;
    }),
    client.on('invalidate', (event) => m.invalidations.inc({ client: name, source: event.source })),
    client.on('breaker', (event) => setBreaker(event.state)),
  ];
  return () => {
    for (const detach of off) detach();
  };
}
