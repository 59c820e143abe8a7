import { describe, expect, it } from 'vitest';
import { requestIdFrom, uuid } from '../src/request-id.ts';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('request ids', () => {
  it('makes version-4 UUIDs, all different, across many batches', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 20_000; i++) {
      const id = uuid();
      expect(id).toMatch(UUID_V4);
      seen.add(id);
    }
    expect(seen.size).toBe(20_000);
  });

  it('uses every hex digit in every free position (the bits are random, not fixed)', () => {
    const ids = Array.from({ length: 4000 }, () => uuid());
    for (let position = 0; position < 36; position++) {
      if ([8, 13, 14, 18, 23].includes(position)) continue;
      const digits = new Set(ids.map((id) => id[position]));
      expect(digits.size, `position ${position}`).toBe(position === 19 ? 4 : 16);
    }
  });

  it('honours a well-formed incoming id and replaces anything else', () => {
    expect(requestIdFrom('client.id:1')).toBe('client.id:1');
    expect(requestIdFrom(['first-1', 'second'])).toBe('first-1');
    for (const bad of [undefined, '', 'has space', 'x'.repeat(129), 'ünï', 'a"b'])
      expect(requestIdFrom(bad)).toMatch(UUID_V4);
  });
});
