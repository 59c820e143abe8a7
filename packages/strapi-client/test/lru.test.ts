import { describe, expect, it } from 'vitest';
import { Lru } from '../src/cache/lru.ts';

describe('L1 bound (Lru)', () => {
  it('never holds more than max entries and reports every removal', () => {
    const removed: string[] = [];
    const lru = new Lru<number>(100, (key) => removed.push(key));
    for (let i = 0; i < 1_000; i++) lru.set(`k${i}`, i);
    expect(lru.size).toBe(100);
    expect(removed).toHaveLength(900);
    expect(removed[0]).toBe('k0');
    expect(lru.get('k999')).toBe(999);
    expect(lru.get('k0')).toBeUndefined();
  });

  it('keeps entries that are read while others are written', () => {
    const lru = new Lru<number>(100);
    lru.set('hot', 1);
    for (let i = 0; i < 1_000; i++) {
      lru.set(`k${i}`, i);
      expect(lru.get('hot')).toBe(1);
    }
  });

  it('reports overwrites, deletes and clear', () => {
    const removed: Array<[string, number]> = [];
    const lru = new Lru<number>(10, (key, value) => removed.push([key, value]));
    lru.set('a', 1);
    lru.set('a', 2);
    expect(lru.delete('a')).toBe(true);
    expect(lru.delete('a')).toBe(false);
    lru.set('b', 3);
    lru.clear();
    expect(removed).toEqual([
      ['a', 1],
      ['a', 2],
      ['b', 3],
    ]);
    expect(lru.size).toBe(0);
  });
});
