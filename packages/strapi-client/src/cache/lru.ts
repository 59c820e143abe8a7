/**
 * A bounded map with approximate LRU eviction, tuned for a read-mostly cache: a hit is one
 * `Map.get` plus a comparison. An entry is moved to the young end only when it has aged by
 * more than a quarter of the capacity (in writes) since its last move, so hot entries survive
 * eviction without paying a delete + insert on every hit. Eviction removes the oldest end.
 */
export class Lru<V> {
  #map = new Map<string, { value: V; gen: number }>();
  #max: number;
  #gen = 0;
  #moveAfter: number;
  #onRemove: (key: string, value: V) => void;

  constructor(max: number, onRemove: (key: string, value: V) => void = () => {}) {
    this.#max = max;
    this.#moveAfter = Math.max(1, max >> 2);
    this.#onRemove = onRemove;
  }

  get size(): number {
    return this.#map.size;
  }

  get(key: string): V | undefined {
    const node = this.#map.get(key);
    if (node === undefined) return undefined;
    if (this.#gen - node.gen > this.#moveAfter) {
      this.#map.delete(key);
      this.#map.set(key, node);
      node.gen = this.#gen;
    }
    return node.value;
  }

  set(key: string, value: V): void {
    const old = this.#map.get(key);
    if (old !== undefined) {
      this.#map.delete(key);
      this.#onRemove(key, old.value);
    }
    this.#map.set(key, { value, gen: ++this.#gen });
    while (this.#map.size > this.#max) {
      const oldest = this.#map.keys().next().value as string;
      const node = this.#map.get(oldest)!;
      this.#map.delete(oldest);
      this.#onRemove(oldest, node.value);
    }
  }

  delete(key: string): boolean {
    const node = this.#map.get(key);
    if (node === undefined) return false;
    this.#map.delete(key);
    this.#onRemove(key, node.value);
    return true;
  }

  clear(): void {
    const nodes = [...this.#map];
    this.#map.clear();
    for (const [key, node] of nodes) this.#onRemove(key, node.value);
  }
}
