import { ApiError, routes } from '@pilot/contracts';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { schemaFor } from '../lib/route-schema.ts';

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

/** The raw token of an `Authorization: Bearer <token>` header, or null. */
export function bearerToken(header: string | undefined): string | null {
  const match = header ? BEARER.exec(header) : null;
  return match?.[1] ?? null;
}

/** GET /me: the user behind the access token. */
const me: FastifyPluginAsyncZod = async (fastify) => {
  const { auth } = fastify.deps;

  fastify.get(routes.me.path, { schema: schemaFor(routes.me) }, async (request) => {
    const token = bearerToken(request.headers.authorization);
    if (!token) throw new ApiError('UNAUTHORIZED');
    return { data: await auth.verify(token) };
  });
};

export default me;
