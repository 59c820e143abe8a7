/**
 * Observability hooks. Listeners run synchronously and must be cheap; a throwing listener
 * is logged and ignored (it never breaks a request).
 */

export interface CacheEvent {
  /** `hit` fresh value (L1 or L2), `stale` served past ttl within grace, `miss` went to Strapi,
   * `coalesced` joined an identical in-flight miss, `bypass` caching disabled for the call. */
  result: 'hit' | 'stale' | 'miss' | 'coalesced' | 'bypass';
  layer?: 'l1' | 'l2';
  /** Content type (plural API id, or the single type's id). */
  type: string;
  /** Why a stale value was served: `revalidating` (SWR) or `upstream-error`. */
  reason?: 'revalidating' | 'upstream-error';
}

export interface UpstreamEvent {
  method: string;
  /** Path without query string, e.g. `/api/articles`. */
  path: string;
  type: string;
  /** HTTP status when Strapi answered. */
  status?: number;
  durationMs: number;
  ok: boolean;
  /** Error code when not ok (`STRAPI_TIMEOUT`, `STRAPI_UNAVAILABLE`, ...). */
  errorCode?: string;
  /** 0 for the first attempt, 1.. for retries. */
  attempt: number;
}

export type BreakerState = 'closed' | 'open' | 'half-open' | 'isolated';

export interface BreakerEvent {
  state: BreakerState;
}

export interface InvalidateEvent {
  tags: string[];
  /** `local`: this instance invalidated; `remote`: received from another instance over the bus;
   * `resync`: the bus reconnected and L1 was cleared because messages may have been missed. */
  source: 'local' | 'remote' | 'resync';
  /** L1 entries dropped in this instance. */
  dropped: number;
}

export interface RedisEvent {
  connection: 'cache' | 'bus';
  state: 'ready' | 'down';
  error?: string;
}

export interface StrapiClientEvents {
  cache: CacheEvent;
  upstream: UpstreamEvent;
  breaker: BreakerEvent;
  invalidate: InvalidateEvent;
  redis: RedisEvent;
}

export type StrapiEventName = keyof StrapiClientEvents;
export type StrapiEventListener<K extends StrapiEventName> = (event: StrapiClientEvents[K]) => void;

export class EventHub {
  #listeners: { [K in StrapiEventName]: Set<StrapiEventListener<K>> } = {
    cache: new Set(),
    upstream: new Set(),
    breaker: new Set(),
    invalidate: new Set(),
    redis: new Set(),
  };
  #onListenerError: (error: unknown, event: StrapiEventName) => void;

  constructor(onListenerError: (error: unknown, event: StrapiEventName) => void) {
    this.#onListenerError = onListenerError;
  }

  on<K extends StrapiEventName>(event: K, listener: StrapiEventListener<K>): () => void {
    this.#listeners[event].add(listener);
    return () => this.off(event, listener);
  }

  off<K extends StrapiEventName>(event: K, listener: StrapiEventListener<K>): void {
    this.#listeners[event].delete(listener);
  }

  has(event: StrapiEventName): boolean {
    return this.#listeners[event].size > 0;
  }

  emit<K extends StrapiEventName>(event: K, payload: StrapiClientEvents[K]): void {
    const listeners = this.#listeners[event];
    if (listeners.size === 0) return;
    for (const listener of listeners) {
      try {
        listener(payload);
      } catch (error) {
        this.#onListenerError(error, event);
      }
    }
  }

  clear(): void {
    for (const set of Object.values(this.#listeners)) set.clear();
  }
}
