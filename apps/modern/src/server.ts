import {
  createLogger,
  createServiceDeps,
  DEFAULT_REDIS_PREFIX,
  loadServiceConfig,
  type ServiceConfig,
} from '@pilot/service-kit';
import { initTelemetry, type Telemetry } from '@pilot/telemetry';
import closeWithGrace from 'close-with-grace';
import type { FastifyInstance } from 'fastify';
import { createApp } from './create-app.ts';
import { createMemoryEventsHub, type EventsHub } from './events/hub.ts';
import { createRedisEventsHub } from './events/redis-hub.ts';
import { createRedisReplayGuard } from './lib/replay-guard.ts';

export const DEFAULT_PORT = 3002;

export interface RunningServer {
  app: FastifyInstance;
  url: string;
  config: ServiceConfig;
  /** Closes the app (ends SSE streams, drains requests) and then the shared dependencies. */
  close(): Promise<void>;
}

/**
 * The only place that reads the environment and listens. MODERN_PORT wins over PORT (the
 * stack runs both services from one environment); the default is 3002.
 */
export function configFrom(env: Record<string, string | undefined>): ServiceConfig {
  return loadServiceConfig({ ...env, PORT: env.MODERN_PORT ?? env.PORT }, { port: DEFAULT_PORT });
}

export async function start(env: Record<string, string | undefined> = process.env): Promise<RunningServer> {
  const config = configFrom(env);
  const logger = createLogger({ service: 'modern', level: config.LOG_LEVEL });
  const shared = createServiceDeps(config, logger, { service: 'modern' });
  const events: EventsHub = config.REDIS_URL
    ? createRedisEventsHub({ url: config.REDIS_URL, prefix: `${DEFAULT_REDIS_PREFIX}events:`, logger })
    : createMemoryEventsHub();
  const app = createApp({
    config,
    logger,
    content: shared.content,
    auth: shared.auth,
    loginLimiter: shared.loginLimiter,
    metrics: shared.metrics,
    events,
    // replayed webhook signatures are refused on every instance, not only the one that saw them
    ...(shared.redis
      ? { replayGuard: createRedisReplayGuard(shared.redis, `${DEFAULT_REDIS_PREFIX}webhooks:seen:`) }
      : {}),
  });
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      await app.close();
      await events.close();
      await shared.close();
    })();
    return closing;
  };
  try {
    const url = await app.listen({ port: config.PORT, host: config.HOST });
    return { app, url, config, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * `node src/server.ts`: listen, and on SIGINT/SIGTERM/uncaught errors close with grace (a
 * signal during start-up waits for the start to finish, then closes).
 */
async function main() {
  let shutdownDelay: number;
  let telemetry: Telemetry;
  try {
    const config = configFrom(process.env);
    shutdownDelay = config.SHUTDOWN_TIMEOUT_MS;
    // before anything listens: the server spans come from the http diagnostics channels
    telemetry = await initTelemetry({
      service: 'modern',
      logger: createLogger({ service: 'modern', level: config.LOG_LEVEL }).child({ component: 'telemetry' }),
    });
  } catch (error) {
    console.error((error as Error).message);
    process.exit(1);
  }
  const starting = start();
  closeWithGrace({ delay: shutdownDelay }, async ({ signal, err }) => {
    const server = await starting.catch(() => undefined);
    if (server) {
      if (err) server.app.log.error({ err }, 'shutting down after an error');
      else server.app.log.info({ signal }, 'shutting down');
      await server.close();
    }
    await telemetry.shutdown();
  });
  try {
    await starting;
  } catch (error) {
    console.error((error as Error).message);
    process.exit(1);
  }
}

if (import.meta.main) await main();
