import type { AuthService } from '@pilot/auth';
import type { ContentRepository } from '@pilot/content';
import type { HttpMetrics, Logger, LoginLimiter, ServiceConfig } from '@pilot/service-kit';
import type { EventsHub } from './events/hub.ts';
import type { ReplayGuard } from './lib/replay-guard.ts';

/** Options for tests and operators that are not environment configuration. */
export interface AppTuning {
  /** SSE heartbeat period (default LIMITS.eventsHeartbeatMs). */
  eventsHeartbeatMs?: number;
  /** @fastify/under-pressure thresholds; `false` turns load shedding off. */
  underPressure?: UnderPressureTuning | false;
}

export interface UnderPressureTuning {
  maxEventLoopDelay?: number;
  maxEventLoopUtilization?: number;
  maxHeapUsedBytes?: number;
  maxRssBytes?: number;
  sampleInterval?: number;
  /** Seconds sent in Retry-After with the 503 OVERLOADED answer. */
  retryAfter?: number;
}

/**
 * What the app needs from outside. The same shape as @pilot/legacy's `createApp(deps)`, plus
 * the optional events hub (GET /events; the webhook publishes into it) and tuning.
 */
export interface AppDeps {
  config: ServiceConfig;
  logger: Logger;
  content: ContentRepository;
  auth: AuthService;
  /** The POST /auth/login limit; defaults to one in this process (loginLimiterFor(config)). */
  loginLimiter?: LoginLimiter;
  /** Defaults to a fresh registry from createHttpMetrics('modern'). */
  metrics?: HttpMetrics;
  /** Outbound HTTP for /aggregate (defaults to global fetch). */
  fetch?: typeof fetch;
  /** Defaults to an in-process hub (events reach only this instance's subscribers). */
  events?: EventsHub;
  /** Webhook signatures already seen (defaults to this process; Redis covers every instance). */
  replayGuard?: ReplayGuard;
  tuning?: AppTuning;
}
