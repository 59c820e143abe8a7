import type { Server } from 'node:http';
import { LIMITS } from '@pilot/contracts';
import {
  createHttpMetrics,
  createHttpServer,
  leaveClientErrorsToServer,
  type ServiceConfig,
} from '@pilot/service-kit';
import Fastify, { type FastifyHttpOptions, type FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import app from './app.ts';
import type { AppDeps } from './deps.ts';
import { frameworkErrors } from './lib/framework-errors.ts';
import { withLazyRequestLoggers } from './plugins/app/lazy-logger.ts';
import { RequestLogController } from './plugins/app/logging.ts';
import { UNMATCHED_ROUTE } from './plugins/app/metrics.ts';
import { genReqId } from './plugins/app/request-id.ts';

/** A hop count the way Express compiles it (Fastify's types take no number). */
function trustProxyOption(trust: ServiceConfig['TRUST_PROXY']) {
  return typeof trust === 'number' ? (_address: string, hop: number) => hop < trust : trust;
}

/**
 * Fastify's server options, chosen so URLs match the way Express 5 (legacy) matches them:
 * case-insensitive, a trailing slash ignored; params as long as the longest allowed URL (the
 * contract validates their length, not the router). The HTTP server is legacy's too
 * (createHttpServer from @pilot/service-kit): parser errors, 431, CONNECT and Expect are
 * answered in the error envelope before Fastify sees the request.
 */
export function serverOptions(deps: AppDeps): FastifyHttpOptions<Server> {
  const { metrics } = deps;
  return {
    // request loggers are lazy (no pino child per request), made by Fastify's default factory
    loggerInstance: withLazyRequestLoggers(deps.logger),
    genReqId,
    logController: new RequestLogController(),
    bodyLimit: LIMITS.bodyLimitBytes,
    // the client's address from X-Forwarded-* of these peers, as legacy's 'trust proxy'
    trustProxy: trustProxyOption(deps.config.TRUST_PROXY),
    serverFactory: (handler, options) =>
      createHttpServer(handler, {
        logger: deps.logger,
        observe: metrics && ((method, status) => metrics.observe(method, UNMATCHED_ROUTE, status, 0)),
        // Fastify's own: keep-alive longer than the usual load balancer's idle timeout
        keepAliveTimeoutMs: options.keepAliveTimeout as number,
      }),
    routerOptions: {
      caseSensitive: false,
      ignoreTrailingSlash: true,
      maxParamLength: LIMITS.maxUrlLength,
    },
    // while closing, in-flight keep-alive requests are answered normally (Fastify's own 503 body
    // would not be the contract's envelope); forceCloseConnections drops idle ones
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    clientErrorHandler: leaveClientErrorsToServer,
    frameworkErrors,
  };
}

/**
 * Builds the modern app around its dependencies, ready for `inject()` or `listen()` (it does
 * not listen). Same deps as @pilot/legacy's createApp, plus an optional events hub.
 */
export function createApp(given: AppDeps): FastifyInstance {
  // one registry for the routes and for what the HTTP server refuses before them
  const deps = { ...given, metrics: given.metrics ?? createHttpMetrics('modern') };
  const fastify = Fastify(serverOptions(deps)).withTypeProvider<ZodTypeProvider>();
  // fastify-plugin: the app's decorators (deps, isUnderPressure, swagger) live on the returned instance
  fastify.register(fp(app, { name: 'modern-app' }), { deps });
  return fastify as unknown as FastifyInstance;
}
