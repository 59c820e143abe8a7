import { LIMITS, type ContentChangedEvent } from '@pilot/contracts';

/** A content change before the hub has given it an id. */
export type ContentChange = Omit<ContentChangedEvent, 'id'>;
export type EventListener = (event: ContentChangedEvent) => void;

/**
 * Fan-out of `content.changed` events to SSE subscribers, with a bounded backlog for
 * Last-Event-ID resume. Ids are decimal strings that only grow, so "after id N" is a
 * numeric comparison.
 */
export interface EventsHub {
  /** Gives the change an id, keeps it in the backlog and delivers it (on every instance, for a shared hub). */
  publish(change: ContentChange): Promise<ContentChangedEvent>;
  /** Returns the unsubscribe function; call it exactly once when the subscriber goes away. */
  subscribe(listener: EventListener): () => void;
  /** Backlogged events with an id greater than `lastEventId` (all of them for an unparsable id). */
  since(lastEventId: string): ContentChangedEvent[];
  listenerCount(): number;
  close(): Promise<void>;
}

/** The in-process part every hub shares: listeners, backlog, delivery. */
export interface LocalFanout {
  deliver(event: ContentChangedEvent): void;
  subscribe(listener: EventListener): () => void;
  since(lastEventId: string): ContentChangedEvent[];
  listenerCount(): number;
  clear(): void;
}

export function createLocalFanout(backlogSize: number = LIMITS.eventsBacklog): LocalFanout {
  // A Set, not an EventEmitter: 1,000 subscribers are normal here, not a leak warning.
  const listeners = new Set<EventListener>();
  const backlog: ContentChangedEvent[] = [];
  return {
    deliver(event) {
      backlog.push(event);
      if (backlog.length > backlogSize) backlog.splice(0, backlog.length - backlogSize);
      for (const listener of listeners) {
        try {
          listener(event);
        } catch {
          // one broken subscriber must not starve the others
        }
      }
    },
    subscribe(listener) {
      // wrap so the same function subscribed twice gets two independent subscriptions
      const entry: EventListener = (event) => listener(event);
      listeners.add(entry);
      return () => {
        listeners.delete(entry);
      };
    },
    since(lastEventId) {
      if (!/^\d{1,20}$/.test(lastEventId)) return [...backlog];
      const after = BigInt(lastEventId);
      return backlog.filter((event) => BigInt(event.id) > after);
    },
    listenerCount: () => listeners.size,
    clear() {
      listeners.clear();
      backlog.length = 0;
    },
  };
}

/**
 * Single-instance hub. Ids start from the current time in microseconds, so they keep growing
 * across restarts and a client's Last-Event-ID from before a restart is simply "older".
 */
export function createMemoryEventsHub(options: { backlog?: number } = {}): EventsHub {
  const fanout = createLocalFanout(options.backlog);
  let next = BigInt(Date.now()) * 1000n;
  return {
    async publish(change) {
      next += 1n;
      const event: ContentChangedEvent = { id: next.toString(), ...change };
      fanout.deliver(event);
      return event;
    },
    subscribe: fanout.subscribe,
    since: fanout.since,
    listenerCount: fanout.listenerCount,
    async close() {
      fanout.clear();
    },
  };
}
