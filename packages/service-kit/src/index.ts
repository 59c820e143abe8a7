export { ConfigError, type DemoUser, loadServiceConfig, type ServiceConfig, ServiceEnv } from './config.ts';
export {
  createServiceDeps,
  DEFAULT_REDIS_PREFIX,
  type ServiceDeps,
  type ServiceDepsOptions,
} from './deps.ts';
export { createHttpServer, type HttpServerOptions, leaveClientErrorsToServer } from './http-server.ts';
export { createLogger, type Logger, REDACT_PATHS } from './logger.ts';
export { createHttpMetrics, type HttpMetrics, LATENCY_BUCKETS } from './metrics.ts';
export { requestIdFrom } from './request-id.ts';
export { attachStrapiMetrics } from './strapi-metrics.ts';
