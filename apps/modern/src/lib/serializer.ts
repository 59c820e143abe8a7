import type { FastifySerializerCompiler } from 'fastify';
import { serializerCompiler } from 'fastify-type-provider-zod';
import type { z } from 'zod';

/** Freezes a JSON-like value and everything in it. */
function deepFreeze(value: unknown): void {
  if (value === null || typeof value !== 'object') return;
  Object.freeze(value);
  for (const item of Object.values(value)) if (!Object.isFrozen(item)) deepFreeze(item);
}

/**
 * fastify-type-provider-zod's response serializer (the route's schema encodes and checks the
 * body, then JSON.stringify), with its text kept for a frozen body: a frozen body is taken as
 * immutable and deep-frozen the first time, so the same object always has the same text. The
 * cached reads answer with the same frozen body on every hit (content repository → route), so
 * a hit is checked and serialised once, not on every request. A body that is not frozen is
 * checked and serialised every time, as before.
 *
 * The text stays a string: kept as UTF-8 bytes (a Buffer, which Fastify would send as it is,
 * without measuring and encoding the string per read) it counted ~4 k instructions per read
 * MORE under callgrind — Node then writes the head and the body as two chunks (writev) instead
 * of one string.
 */
export const memoSerializerCompiler: FastifySerializerCompiler<z.ZodType> = (route) => {
  const serialize = serializerCompiler(route as Parameters<typeof serializerCompiler>[0]);
  const texts = new WeakMap<object, string>();
  return (data: unknown) => {
    if (data === null || typeof data !== 'object') return serialize(data);
    // a body seen before was frozen then, and stays so: the lookup first (Object.isFrozen is a
    // call into the runtime, ~400 instructions per read under callgrind)
    let text = texts.get(data);
    if (text !== undefined) return text;
    if (!Object.isFrozen(data)) return serialize(data);
    text = serialize(data);
    deepFreeze(data);
    texts.set(data, text);
    return text;
  };
};
