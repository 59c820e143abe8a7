import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Waiting, WaitingList } from '../src/pipeline/waiting.ts';

const item = (): Waiting => ({ proxyReq: null, sentAt: 0, headTimeoutMs: 0, waitingAt: -1 });

describe("WaitingList (a backend's requests waiting for a head)", () => {
  it('holds what a Set would, for any sequence of adds and deletes across two lists', () => {
    const op = fc.record({
      list: fc.integer({ min: 0, max: 1 }),
      add: fc.boolean(),
      item: fc.integer({ min: 0, max: 7 }),
    });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const items = Array.from({ length: 8 }, item);
        const lists = [new WaitingList<Waiting>(), new WaitingList<Waiting>()];
        const models = [new Set<Waiting>(), new Set<Waiting>()];
        for (const { list, add, item: i } of ops) {
          const w = items[i]!;
          // an item is in one backend's list at a time: the gateway deletes before it moves it
          if (add && !models[1 - list]!.has(w)) {
            lists[list]!.add(w);
            models[list]!.add(w);
          } else if (!add) {
            expect(lists[list]!.delete(w)).toBe(models[list]!.delete(w));
          }
          for (const k of [0, 1]) {
            expect(lists[k]!.size).toBe(models[k]!.size);
            expect(new Set(lists[k]!.snapshot())).toEqual(models[k]);
            for (const x of items) expect(lists[k]!.has(x)).toBe(models[k]!.has(x));
          }
        }
      }),
    );
  });

  it('a snapshot can be gone through while items are deleted and added', () => {
    const list = new WaitingList<Waiting>();
    const items = Array.from({ length: 5 }, item);
    for (const w of items) list.add(w);
    const seen: Waiting[] = [];
    for (const w of list.snapshot()) {
      if (!list.has(w)) continue;
      seen.push(w);
      list.delete(w);
      if (w === items[0]) list.delete(items[4]!); // a side effect takes another one out
    }
    expect(seen).toHaveLength(4);
    expect(list.size).toBe(0);
  });
});
