import { isMirrored, routes } from '@pilot/contracts';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { schemaFor } from '../lib/route-schema.ts';

/** POST /auth/login and POST /auth/refresh (errors are ApiErrors from @pilot/auth). */
const auth: FastifyPluginAsyncZod = async (fastify) => {
  const { auth: authService } = fastify.deps;

  fastify.post(routes.login.path, { schema: schemaFor(routes.login) }, async (request) =>
    authService.login(request.body.username, request.body.password),
  );

  // a mirrored refresh verifies and answers, rotating and revoking nothing
  fastify.post(routes.refresh.path, { schema: schemaFor(routes.refresh) }, async (request) =>
    authService.refresh(request.body.refreshToken, { dryRun: isMirrored(request.headers) }),
  );
};

export default auth;
