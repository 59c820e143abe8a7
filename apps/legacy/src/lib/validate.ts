import {
  type ErrorEnvelope,
  type RouteContract,
  VALIDATION_ORDER,
  validationErrorBody,
} from '@pilot/contracts';
import type { Request } from 'express';
import type { z } from 'zod';

type Parsed<R extends RouteContract> = {
  params: R['params'] extends z.ZodType ? z.output<R['params']> : undefined;
  body: R['body'] extends z.ZodType ? z.output<R['body']> : undefined;
  query: R['query'] extends z.ZodType ? z.output<R['query']> : undefined;
};

export type Validation<R extends RouteContract> =
  | { ok: true; value: Parsed<R> }
  | { ok: false; error: ErrorEnvelope };

/**
 * Hand validation, the Express way: each handler checks its request against the route's
 * schemas from @pilot/contracts, part by part in VALIDATION_ORDER (params, body, query), and
 * reports only the first part that fails (Fastify's order, so both apps answer the same).
 */
export function validateRequest<R extends RouteContract>(route: R, req: Request): Validation<R> {
  const value: Record<string, unknown> = {};
  for (const part of VALIDATION_ORDER) {
    const schema = route[part];
    if (!schema) continue;
    const result = schema.safeParse(req[part]);
    if (!result.success) return { ok: false, error: validationErrorBody(part, result.error) };
    value[part] = result.data;
  }
  return { ok: true, value: value as Parsed<R> };
}
