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
    super('Request validation failed');
    this.name = 'RequestValidationError';
    this.zodError = zodError;
  }
}

export const zodValidatorCompiler: FastifySchemaCompiler<z.ZodType> =
  ({ schema }) =>
  (data) => {
    const result = schema.safeParse(data);
    return result.success ? { value: result.data } : { error: new RequestValidationError(result.error) };
  };

/** Fastify's names for request parts → the contract's. */
export function requestPartOf(context: string | undefined): RequestPart {
  if (context === 'querystring') return 'query';
  if (context === 'params' || context === 'body') return context;
  return 'body';
}
