export { ConfigError, type DemoUser, loadServiceConfig, type ServiceConfig, ServiceEnv } from './config.ts';
export { productionProblems } from './production.ts';
export {
  createServiceDeps,
  DEFAULT_REDIS_PREFIX,
  loginLimiterFor,
  type ServiceDeps,
  type ServiceDepsOptions,
} from './deps.ts';
export { createHttpServer, type HttpServerOptions, leaveClientErrorsToServer } from './http-server.ts';
export {
  addressKey,
  createLoginLimiter,
  type LoginAttempt,
  type LoginLimiter,
  type LoginLimitOptions,
} from './login-limit.ts';
export { createLogger, type Logger, REDACT_PATHS, type RequestLine, writeRequestLine } from './logger.ts';
export { LatencyHistogram, type LatencySeries } from './latency-histogram.ts';
export { createHttpMetrics, type HttpMetrics, LATENCY_BUCKETS } from './metrics.ts';
export { requestIdFrom } from './request-id.ts';
export { attachStrapiMetrics } from './strapi-metrics.ts';
