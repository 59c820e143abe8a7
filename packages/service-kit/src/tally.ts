import type { Counter } from 'prom-client';

/** One label set's count since the counter was last read: `slot.n++` counts one. */
export interface TallySlot {
  n: number;
}

/**
 * Increments of a prom-client Counter kept as plain numbers and added to it when it is read
 * (the counter's `collect`, which every scrape, `get()` and the cluster aggregation run first).
 * prom-client hashes and validates the label set on every `inc` — on a cached read that was the
 * dearest part of counting it — while a slot per label set is one addition. Exact at every
 * read; nothing is lost between reads. Hand-written: prom-client has no batched increment.
 */
export class Tally<L extends string> {
  readonly #slots: Array<{ labels: Partial<Record<L, string | number>>; n: number }> = [];

  /** A new slot for one label set (keep it: every call adds one). */
  slot(labels: Partial<Record<L, string | number>>): TallySlot {
    const slot = { labels, n: 0 };
    this.#slots.push(slot);
    return slot;
  }

  /** Adds what the slots counted to `counter` and zeroes them: the counter's `collect`. */
  flush(counter: Counter<L>): void {
    for (const slot of this.#slots) {
      if (slot.n === 0) continue;
      counter.inc(slot.labels, slot.n);
      slot.n = 0;
    }
  }
}
