import type { Server } from 'node:http';
import { LIMITS } from '@pilot/contracts';
import Fastify, { type FastifyHttpOptions, type FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import app from './app.ts';
import type { AppDeps } from './deps.ts';
import { clientErrorHandler } from './lib/client-error.ts';
import { frameworkErrors } from './lib/framework-errors.ts';
import { lazyChildLogger } from './plugins/app/lazy-logger.ts';
import { RequestLogController } from './plugins/app/logging.ts';
import { genReqId } from './plugins/app/request-id.ts';

/**
 * Fastify's server options, chosen so URLs match the way Express 5 (legacy) matches them:
 * case-insensitive, a trailing slash ignored; params as long as the longest allowed URL (the
 * contract validates their length, not the router).
 */
export function serverOptions(deps: AppDeps): FastifyHttpOptions<Server> {
  return {
    loggerInstance: deps.logger,
    genReqId,
    logController: new RequestLogController(),
    childLoggerFactory: lazyChildLogger,
    bodyLimit: LIMITS.bodyLimitBytes,
    // larger headers → 431 from Node's parser (stated, like legacy's listen(), not left to a flag)
    http: { maxHeaderSize: LIMITS.maxHeaderBytes },
    // slow-loris bound, as legacy states it: the whole request (not the response: SSE) in 5 min
    requestTimeout: 300_000,
    routerOptions: {
      caseSensitive: false,
      ignoreTrailingSlash: true,
      maxParamLength: LIMITS.maxUrlLength,
    },
    // while closing, in-flight keep-alive requests are answered normally (Fastify's own 503 body
    // would not be the contract's envelope); forceCloseConnections drops idle ones
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    clientErrorHandler,
    frameworkErrors,
  };
}

/**
 * Builds the modern app around its dependencies, ready for `inject()` or `listen()` (it does
 * not listen). Same deps as @pilot/legacy's createApp, plus an optional events hub.
 */
export function createApp(deps: AppDeps): FastifyInstance {
  const fastify = Fastify(serverOptions(deps)).withTypeProvider<ZodTypeProvider>();
  // fastify-plugin: the app's decorators (deps, isUnderPressure, swagger) live on the returned instance
  fastify.register(fp(app, { name: 'modern-app' }), { deps });
  return fastify as unknown as FastifyInstance;
}
