import type { AuthService } from '@pilot/auth';
import type { ContentRepository } from '@pilot/content';
import type { HttpMetrics, Logger, LoginLimiter, ServiceConfig } from '@pilot/service-kit';
import { createHttpMetrics, loginLimiterFor } from '@pilot/service-kit';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { AppDeps, AppTuning } from '../../deps.ts';
import { createMemoryEventsHub, type EventsHub } from '../../events/hub.ts';
import { createMemoryReplayGuard, type ReplayGuard } from '../../lib/replay-guard.ts';

/** The deps with every optional part filled in; what routes read from `fastify.deps`. */
export interface ResolvedDeps {
  config: ServiceConfig;
  logger: Logger;
  content: ContentRepository;
  auth: AuthService;
  loginLimiter: LoginLimiter;
  metrics: HttpMetrics;
  fetch: typeof fetch;
  events: EventsHub;
  replayGuard: ReplayGuard;
  tuning: AppTuning;
}

declare module 'fastify' {
  interface FastifyInstance {
    deps: ResolvedDeps;
  }
}

export function resolveDeps(deps: AppDeps): ResolvedDeps {
  return {
    config: deps.config,
    logger: deps.logger,
    content: deps.content,
    auth: deps.auth,
    loginLimiter: deps.loginLimiter ?? loginLimiterFor(deps.config),
    metrics: deps.metrics ?? createHttpMetrics('modern'),
    fetch: deps.fetch ?? globalThis.fetch,
    events: deps.events ?? createMemoryEventsHub(),
    replayGuard: deps.replayGuard ?? createMemoryReplayGuard(),
    tuning: deps.tuning ?? {},
  };
}

/**
 * Decorates the instance with its dependencies. The app does not own them (the caller closes
 * content, auth and a hub it passed in), except a hub the app created itself.
 */
export default fp(
  async function depsPlugin(fastify: FastifyInstance, opts: { deps: AppDeps }) {
    const resolved = resolveDeps(opts.deps);
    fastify.decorate('deps', resolved);
    if (!opts.deps.events) fastify.addHook('onClose', async () => resolved.events.close());
  },
  { name: 'deps' },
);
