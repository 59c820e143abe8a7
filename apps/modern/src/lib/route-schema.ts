import { ErrorEnvelope, type RouteContract } from '@pilot/contracts';
import type { z } from 'zod';

interface RouteSchema {
  summary: string;
  tags: string[];
  params?: z.ZodType;
  querystring?: z.ZodType;
  body?: z.ZodType;
  security?: Array<Record<string, string[]>>;
  response: Record<number, unknown>;
}

/**
 * Turns a route of the contracts catalogue into a Fastify route schema: the request parts
 * validate through the zod type provider, the success responses serialise through it, and
 * every documented error status points at the one ErrorEnvelope (for OpenAPI; error bodies
 * are written pre-serialised by the error handler).
 */
export function schemaFor<const R extends RouteContract>(route: R) {
  const response: Record<number, unknown> = { ...route.responses };
  for (const status of route.errors) response[status] = ErrorEnvelope.describe(`Error (status ${status}).`);
  const schema: RouteSchema = { summary: route.summary, tags: [...route.tags], response };
  if (route.params) schema.params = route.params;
  if (route.query) schema.querystring = route.query;
  if (route.body) schema.body = route.body;
  if (route.auth) schema.security = [{ bearerAuth: [] }];
  return schema as unknown as {
    summary: string;
    tags: string[];
    params: R['params'] extends z.ZodType ? R['params'] : undefined;
    querystring: R['query'] extends z.ZodType ? R['query'] : undefined;
    body: R['body'] extends z.ZodType ? R['body'] : undefined;
    response: R['responses'];
  };
}
