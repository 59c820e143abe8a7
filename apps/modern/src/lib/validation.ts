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
  return (data) => {
    const result = schema.safeParse(fromNull && data === null ? undefined : data);
    return result.success ? { value: result.data } : { error: new RequestValidationError(result.error) };
  };
};

/** Fastify's names for request parts → the contract's. */
export function requestPartOf(context: string | undefined): RequestPart {
  if (context === 'querystring') return 'query';
  if (context === 'params' || context === 'body') return context;
  return 'body';
}
