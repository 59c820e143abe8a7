import type { ClientRequest } from 'node:http';

/** A request sent (or being sent) and waiting for its response head. */
export interface Waiting {
  proxyReq: ClientRequest | null;
  /** When the request was completely written (0: still uploading, the client's pace). */
  sentAt: number;
  /** Response head deadline (0 = none). */
  headTimeoutMs: number;
  /** Its place in the list that holds it (-1: in none); the list's to keep. */
  waitingAt: number;
}

/**
 * The requests a backend has sent and not yet had a head for: added when sent, removed when
 * the head comes, the request ends or moves; swept every 100 ms (deadlines, stalls). An item is
 * in one list at a time (a request waits on one backend: a move deletes it first).
 *
 * An array with each item's index on the item (removal swaps the last one in), not a `Set`.
 * Measured with a `Set` here (`--trace-gc-nvp`, the bench's table): once a second backend took
 * traffic, a quarter of every young generation survived its scavenge (average survival 25 %,
 * 0.5 % before), so every request's objects were promoted and old-space marking ran on V8's
 * worker threads: +10 µs of CPU per request, on every route, for the life of the process.
 * With this list it stays at 0.2–1 %. Likely cause: a `Set` with an add and a delete per
 * request keeps rebuilding its hash table, and an old table that was promoted keeps the newer
 * ones (and the contexts in them) alive until a full GC.
 */
export class WaitingList<T extends Waiting> {
  private readonly items: T[] = [];

  get size(): number {
    return this.items.length;
  }

  add(item: T): void {
    if (this.has(item)) return;
    item.waitingAt = this.items.length;
    this.items.push(item);
  }

  has(item: T): boolean {
    return item.waitingAt >= 0 && this.items[item.waitingAt] === item;
  }

  /** Removes the item; false when it was not in this list. */
  delete(item: T): boolean {
    if (!this.has(item)) return false;
    const last = this.items.pop()!;
    if (last !== item) {
      this.items[item.waitingAt] = last;
      last.waitingAt = item.waitingAt;
    }
    item.waitingAt = -1;
    return true;
  }

  /** The items now, as a copy: the caller may delete (or add) while it goes through them. */
  snapshot(): T[] {
    return this.items.slice();
  }
}
