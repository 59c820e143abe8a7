import { ConfigError, createLogger, createServiceDeps, loadServiceConfig } from '@pilot/service-kit';
import { initTelemetry, type Telemetry, TelemetryConfigError } from '@pilot/telemetry';
import { createApp } from './app.ts';
import { listen } from './http-server.ts';

/**
 * The only file that reads the environment, listens and handles signals:
 * validated config (LEGACY_PORT, else PORT, else 3001) → deps (Strapi clients, content, auth,
 * Redis) → app → listen. SIGTERM/SIGINT: stop accepting, finish in-flight requests (bounded by
 * SHUTDOWN_TIMEOUT_MS), close the Strapi clients and Redis, exit 0. A second signal exits at once.
 */
export const DEFAULT_PORT = 3001;

async function main(): Promise<void> {
  let config: ReturnType<typeof loadServiceConfig>;
  try {
    config = loadServiceConfig(
      { ...process.env, PORT: process.env.LEGACY_PORT ?? process.env.PORT },
      { port: DEFAULT_PORT },
    );
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`legacy: ${error.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
  const logger = createLogger({ service: 'legacy', level: config.LOG_LEVEL });
  let telemetry: Telemetry;
  try {
    // before anything listens: the server spans come from the http diagnostics channels
    telemetry = await initTelemetry({ service: 'legacy', logger: logger.child({ component: 'telemetry' }) });
  } catch (error) {
    if (error instanceof TelemetryConfigError) {
      process.stderr.write(`legacy: ${error.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw error;
  }
  const deps = createServiceDeps(config, logger, { service: 'legacy' });
  const app = createApp({
    config,
    logger,
    content: deps.content,
    auth: deps.auth,
    loginLimiter: deps.loginLimiter,
    metrics: deps.metrics,
  });
  const running = await listen(app, { host: config.HOST, port: config.PORT, logger, metrics: deps.metrics });
  logger.info({ url: running.url, port: running.port }, 'legacy listening');

  let shuttingDown = false;
  const shutdown = async (signal: string) => {
    if (shuttingDown) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    shuttingDown = true;
    logger.info(
      { signal, timeoutMs: config.SHUTDOWN_TIMEOUT_MS },
      'shutting down: finishing in-flight requests',
    );
    const { forced } = await running.close(config.SHUTDOWN_TIMEOUT_MS);
    if (forced) logger.warn('shutdown deadline hit: open connections were destroyed');
    await deps.close();
    await telemetry.shutdown();
    logger.info('shutdown complete');
    logger.flush();
    process.exitCode = 0;
  };
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      shutdown(signal).catch((error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      });
    });
  }
}

await main();
