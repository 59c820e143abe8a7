import { mirrorOf, routes } from '@pilot/contracts';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { schemaFor } from '../lib/route-schema.ts';

/**
 * POST /auth/login (under the login limit: failures per username+address and per address,
 * 429 past it) and POST /auth/refresh (errors are ApiErrors from @pilot/auth).
 */
const auth: FastifyPluginAsyncZod = async (fastify) => {
  const { auth: authService, loginLimiter } = fastify.deps;

  fastify.post(routes.login.path, { schema: schemaFor(routes.login) }, async (request, reply) => {
    const { username, password } = request.body;
    // a mirror neither counts against nor waits for the client's login limit, and starts no session
    const mirror = mirrorOf(request.headers);
    if (mirror.dryRun) return authService.login(username, password, mirror);
    const { value, headers } = await loginLimiter.attempt(username, request.ip, () =>
      authService.login(username, password),
    );
    reply.headers(headers);
    return value;
  });

  // a mirrored refresh verifies and answers, rotating and revoking nothing
  fastify.post(routes.refresh.path, { schema: schemaFor(routes.refresh) }, async (request) =>
    authService.refresh(request.body.refreshToken, mirrorOf(request.headers)),
  );
};

export default auth;
