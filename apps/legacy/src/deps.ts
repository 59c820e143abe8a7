import type { AuthService } from '@pilot/auth';
import type { ContentRepository } from '@pilot/content';
import type { HttpMetrics, Logger, LoginLimiter, ServiceConfig } from '@pilot/service-kit';

/** What the app needs from outside; built by server.ts (createServiceDeps) or by a test. */
export interface AppDeps {
  config: ServiceConfig;
  logger: Logger;
  content: ContentRepository;
  auth: AuthService;
  /** The POST /auth/login limit; defaults to one in this process (loginLimiterFor(config)). */
  loginLimiter?: LoginLimiter;
  /** Defaults to a fresh registry from createHttpMetrics('legacy'). */
  metrics?: HttpMetrics;
  /** Outbound HTTP for /aggregate (defaults to global fetch). */
  fetch?: typeof fetch;
}
