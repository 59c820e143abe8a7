import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import { initTelemetry } from '@pilot/telemetry';
import { startClusterHub } from './control/cluster.ts';
import { readEnv } from './env.ts';
import { createGateway } from './index.ts';
import { createLogger, flushLogs } from './log.ts';

/**
 * The only file that reads the environment, listens and handles signals:
 * SIGTERM/SIGINT → graceful shutdown; SIGHUP → reload the route table.
 * GATEWAY_WORKERS=N (or `auto`, one per core) runs N workers via node:cluster sharing the
 * public and admin ports; Redis (REDIS_URL) keeps their admin changes in step.
 */
const env = readEnv();
const logger = createLogger(env.LOG_LEVEL);
const workers = env.GATEWAY_WORKERS === 'auto' ? availableParallelism() : env.GATEWAY_WORKERS;

if (workers > 1 && cluster.isPrimary) {
  let stopping = false;
  logger.info({ workers }, 'starting gateway workers');
  startClusterHub(logger);
  for (let i = 0; i < workers; i++) cluster.fork();
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    logger.error({ pid: worker.process.pid, code, signal }, 'gateway worker died; starting another');
    cluster.fork();
  });
  const stop = (signal: NodeJS.Signals) => {
    stopping = true;
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill(signal);
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGTERM'));
  process.on('SIGHUP', () => {
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGHUP');
  });
} else {
  // the public edge: a client's traceparent keeps its trace id, never its sampling decision
  // (TRACING_INCOMING); the gateway makes its own spans, so no server-span instrumentation
  const telemetry = await initTelemetry({
    service: 'gateway',
    incoming: 'continue',
    serverSpans: false,
    logger: logger.child({ component: 'telemetry' }),
  }).catch(async (error: Error) => {
    logger.fatal(error.message);
    await flushLogs(logger);
    process.exit(1);
  });
  const handle = await createGateway({
    routesFile: env.GATEWAY_ROUTES,
    env: process.env,
    logger,
    port: env.GATEWAY_PORT,
    host: env.GATEWAY_HOST,
    adminPort: env.GATEWAY_ADMIN_PORT,
    adminHost: env.GATEWAY_ADMIN_HOST,
    adminToken: env.GATEWAY_ADMIN_TOKEN,
    redisUrl: env.REDIS_URL,
    redisPrefix: env.GATEWAY_REDIS_PREFIX,
    writeBack: env.GATEWAY_WRITE_BACK,
    accessLog: env.GATEWAY_ACCESS_LOG,
    healthChecks: env.GATEWAY_HEALTH_CHECKS,
    shutdownGraceMs: env.GATEWAY_SHUTDOWN_GRACE_MS,
    maxHeaderSize: env.GATEWAY_MAX_HEADER_BYTES,
    defaultMetrics: true,
    sighup: true,
    watch: true,
    cluster: cluster.isWorker,
  }).catch(async (error: Error) => {
    logger.fatal(error.message);
    await flushLogs(logger);
    process.exit(1);
  });
  await handle.listen();
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: draining in-flight requests');
    await handle.close();
    await telemetry.shutdown();
    logger.info('bye');
    await flushLogs(logger);
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}
