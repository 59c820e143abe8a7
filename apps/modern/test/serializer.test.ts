import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { memoSerializerCompiler } from '../src/lib/serializer.ts';

function compile() {
  let checks = 0;
  const schema = z.object({ data: z.object({ title: z.string(), tags: z.array(z.string()) }) }).refine(() => {
    checks++;
    return true;
  });
  const serialize = memoSerializerCompiler({ schema, method: 'GET', url: '/x', httpStatus: '200' } as never);
  return { serialize, checks: () => checks };
}

describe('memoSerializerCompiler', () => {
  it('checks and serialises a frozen body once, and deep-freezes it so its text cannot go stale', () => {
    const { serialize, checks } = compile();
    const body = Object.freeze({ data: { title: 'A', tags: ['x'], extra: 'dropped by the schema' } });
    const text = serialize(body);
    expect(JSON.parse(text)).toEqual({ data: { title: 'A', tags: ['x'] } });
    expect(serialize(body)).toBe(text);
    expect(checks()).toBe(1);
    expect(Object.isFrozen(body.data.tags)).toBe(true);
    const unicode = Object.freeze({ data: { title: 'Ünïcode “quotes” 𝄞', tags: [] } });
    expect(serialize(unicode)).toBe(JSON.stringify(unicode));
    expect(serialize(unicode)).toBe(JSON.stringify(unicode));
    expect(() => {
      (body.data as { title: string }).title = 'B';
    }).toThrow(TypeError);
  });

  it('checks a body that is not frozen every time, and never keeps a body that fails its schema', () => {
    const { serialize, checks } = compile();
    const body = { data: { title: 'A', tags: [] as string[] } };
    serialize(body);
    body.data.title = 'B';
    expect(JSON.parse(serialize(body)).data.title).toBe('B');
    expect(checks()).toBe(2);
    const bad = Object.freeze({ data: { title: 1, tags: [] } });
    expect(() => serialize(bad)).toThrow();
    expect(() => serialize(bad)).toThrow();
  });
});
