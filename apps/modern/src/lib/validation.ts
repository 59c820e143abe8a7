import type { RequestPart } from '@pilot/contracts';
import type { FastifySchemaCompiler } from 'fastify';
import type { z } from 'zod';

/**
 * Carries the ZodError of a failed request part to the error handler, which answers it with
 * `validationErrorBody(part, zodError)`: the same issues legacy reports, because both run the
 * same schema's safeParse. (fastify-type-provider-zod's own compiler flattens the ZodError into
 * Ajv-style entries, which would lose the issue paths' original form.)
 */
export class RequestValidationError extends Error {
  readonly zodError: z.ZodError;
  // set by Fastify (wrapValidationError) before the error handler sees it
  validationContext?: string;
  constructor(zodError: z.ZodError) {
    // A rejected request is routine, not a bug: skip the stack trace (it costs more than the
    // rest of the 422 answer together).
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super('Request validation failed');
    Error.stackTraceLimit = stackTraceLimit;
    this.name = 'RequestValidationError';
    this.zodError = zodError;
  }
}

export const zodValidatorCompiler: FastifySchemaCompiler<z.ZodType> = ({ schema, httpPart }) => {
  // Fastify hands a missing body over as null; the strict JSON parser never yields null, so
  // null here means "no body", which legacy validates as undefined (same zod message).
  const fromNull = httpPart === 'body';
  const validate = (data: unknown) => {
    const result = schema.safeParse(fromNull && data === null ? undefined : data);
    return result.success ? { value: result.data } : { error: new RequestValidationError(result.error) };
  };
  return httpPart === 'params' ? memoizedParams(validate) : validate;
};

/** Accepted path parameters remembered per route (entries; the memo starts over when full). */
export const PARAMS_MEMO_SIZE = 1024;

/**
 * A route's path parameters validated once per value: a hot read asks for the same few slugs
 * over and over, and zod's object parse with its pattern check was ~3 k instructions of a
 * cached read (under callgrind) against a Map lookup. Only routes with one parameter (the
 * value is the key, nothing to encode) and only accepted values (a refusal is rare and its
 * error object is Fastify's to annotate); the remembered value is frozen, as it is shared by
 * every request with that value. Bounded: a client walking random values costs a Map set each.
 */
function memoizedParams<R extends { value?: unknown; error?: unknown }>(
  validate: (data: unknown) => R,
): (data: unknown) => R {
  let accepted = new Map<string, R>();
  // the route's one parameter name, from the first object seen: a memo entry stands for
  // { [name]: value } only (a strict schema refuses any other name)
  let name: string | undefined;
  return (data) => {
    const one = soleEntry(data);
    if (one === undefined || (name !== undefined && one.key !== name)) return validate(data);
    const known = accepted.get(one.value);
    if (known !== undefined) return known;
    const result = validate(data);
    if (result.error === undefined) {
      name ??= one.key;
      if (one.key === name) {
        if (accepted.size >= PARAMS_MEMO_SIZE) accepted = new Map();
        Object.freeze(result.value);
        accepted.set(one.value, result);
      }
    }
    return result;
  };
}

const entry = { key: '', value: '' };

/** The one own property of `data` when it is a string (reused object: read it at once). */
function soleEntry(data: unknown): { key: string; value: string } | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  let count = 0;
  for (const key in data) {
    if (++count > 1) return undefined;
    const value = (data as Record<string, unknown>)[key];
    if (typeof value !== 'string') return undefined;
    entry.key = key;
    entry.value = value;
  }
  return count === 1 ? entry : undefined;
}

/** Fastify's names for request parts → the contract's. */
export function requestPartOf(context: string | undefined): RequestPart {
  if (context === 'querystring') return 'query';
  if (context === 'params' || context === 'body') return context;
  return 'body';
}
