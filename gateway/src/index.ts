import type { Logger } from 'pino';
import { AdminServer } from './admin/server.ts';
import { mountRolloutApi } from './control/rollout/api.ts';
import { type RolloutOptions, type Rollouts, startRollouts } from './control/rollout/wire.ts';
import { DEFAULT_ROUTES_FILE } from './env.ts';
import { Gateway, type GatewayOptions } from './gateway.ts';
import { createLogger } from './log.ts';

export type { AdminHandler, AdminRequest, AdminRouter } from './admin/types.ts';
export { AdminServer } from './admin/server.ts';
export { routeView, statsView, tableView } from './admin/views.ts';
export { bucketOf, choose, jwtSubject } from './pipeline/choose.ts';
export { type Env, loadTableFile, parseTable } from './config/load.ts';
export { tableSchema } from './config/schema.ts';
export { compareResponses, diffResponses } from './shadow/diff.ts';
export { DEFAULT_ROUTES_FILE, readEnv } from './env.ts';
export { GatewayError, TableError } from './errors.ts';
export { Gateway, type GatewayOptions, type ReloadResult } from './gateway.ts';
export { createLogger } from './log.ts';
export { normalizeTarget } from './pipeline/normalize.ts';

export interface CreateGatewayOptions extends Partial<Omit<GatewayOptions, 'logger'>> {
  /** A pino logger; default: JSON to stdout at `logLevel`. */
  logger?: Logger;
  logLevel?: string;
  /** Timings of the migration autopilot (lease, publishing, settle); defaults suit production. */
  rollout?: RolloutOptions;
}

export interface GatewayHandle {
  gateway: Gateway;
  /** The admin server (always created: it serves /metrics and /healthz; /admin/* needs the token); it talks to gateway.control only. */
  admin: AdminServer;
  /** The routes' rollouts (the migration autopilot): status and commands. */
  rollouts: Rollouts;
  /** Starts the public and the admin server (ports 0 = ephemeral, as tests use). */
  listen(): Promise<{ url: string; adminUrl: string; port: number; adminPort: number }>;
  close(): Promise<void>;
  /** `http://host:port` of each server once listening. */
  url: string;
  adminUrl: string;
}

/**
 * Builds a gateway from a route table file: loads and validates the table (throws TableError
 * when it is invalid), reads overrides from Redis when configured, and returns a handle whose
 * listen() opens the public port and the admin port.
 */
export async function createGateway(options: CreateGatewayOptions = {}): Promise<GatewayHandle> {
  const logger = options.logger ?? createLogger(options.logLevel ?? 'info');
  const gateway = new Gateway({ ...options, routesFile: options.routesFile ?? DEFAULT_ROUTES_FILE, logger });
  await gateway.init();
  const rollouts = await startRollouts(gateway.control, options.rollout);
  const admin = new AdminServer(gateway.control, options.adminToken);
  mountRolloutApi(admin, rollouts.handlers);
  const handle: GatewayHandle = {
    gateway,
    admin,
    rollouts,
    url: '',
    adminUrl: '',
    async listen() {
      const host = options.host ?? '0.0.0.0';
      const adminHost = options.adminHost ?? '127.0.0.1';
      const pub = await gateway.listen(options.port ?? 8080, host);
      const adm = await admin.listen(options.adminPort ?? 8081, adminHost);
      const show = (h: string) => (h === '0.0.0.0' || h === '::' ? '127.0.0.1' : h);
      handle.url = `http://${show(host)}:${pub.port}`;
      handle.adminUrl = `http://${show(adminHost)}:${adm.port}`;
      logger.info(
        {
          url: handle.url,
          adminUrl: handle.adminUrl,
          admin: admin.enabled ? 'enabled' : 'disabled (no token)',
        },
        'gateway listening',
      );
      return { url: handle.url, adminUrl: handle.adminUrl, port: pub.port, adminPort: adm.port };
    },
    async close() {
      // first: hand the lease on while this instance can still answer
      await rollouts.stop();
      await Promise.all([gateway.close(), admin.close()]);
    },
  };
  return handle;
}
