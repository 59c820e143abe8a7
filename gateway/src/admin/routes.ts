import { renderMetrics } from '@pilot/telemetry';
import { GatewayError } from '../errors.ts';
import { shadowAdminDeps, shadowAdminRoutes, TextReply } from '../shadow/admin.ts';
import { type CollectFromWorkers, clusterSource } from '../shadow/cluster.ts';
import { clusterRatioText } from '../shadow/metrics.ts';
import { windowSeconds } from '../stats.ts';
import { registerControlPage } from './page/index.ts';
import { type AdminRouter, RawReply } from './types.ts';
import { collectStats, routeView, tableView } from './views.ts';

/** The admin API. README.md#admin-api documents each endpoint's body and response. */
export function registerAdminRoutes(admin: AdminRouter): void {
  const gw = admin.control;
  // cluster IPC, loaded only in worker mode
  const collect: CollectFromWorkers = async <T>(kind: string, args?: Record<string, unknown>) =>
    (await import('../control/cluster.ts')).collectFromWorkers<T>(kind, args);

  admin.route('GET', '/healthz', () => ({ status: 'ok' }), { public: true });
  admin.route('GET', '/readyz', () => ({ status: 'ready', tableVersion: gw.table.version }), {
    public: true,
  });
  admin.route(
    'GET',
    '/metrics',
    async ({ headers }) => {
      if (!gw.options.cluster) {
        // OpenMetrics (latency exemplars) for a scraper that asks for it, else Prometheus text
        const out = await renderMetrics(gw.metrics.registry, headers.accept);
        return new RawReply(200, { 'content-type': out.contentType }, out.body);
      }
      const text =
        (await (await import('../control/cluster.ts')).collectClusterMetrics()) +
        clusterRatioText((await clusterSource(collect).state()).stats);
      return new RawReply(200, { 'content-type': gw.metrics.registry.contentType }, text);
    },
    { public: true },
  );

  admin.route('GET', '/admin/table', () => tableView(gw));

  admin.route('POST', '/admin/reload', async ({ actor }) => {
    const result = await gw.reload('admin');
    await gw.audit({
      at: new Date().toISOString(),
      ...actor,
      instance: gw.instanceId,
      action: 'reload',
      detail: result,
    });
    if (!result.ok) {
      throw Object.assign(new GatewayError('TABLE_INVALID', 422, result.error ?? 'invalid table'), {
        issues: result.issues,
      });
    }
    return result;
  });

  admin.route('GET', '/admin/routes/:id', ({ params }) => {
    const route = gw.route(params.id!);
    if (!route) throw new GatewayError('ROUTE_NOT_FOUND', 404, `no route "${params.id}"`);
    return routeView(route);
  });

  const respond = async (p: ReturnType<typeof gw.changeRoute>) => {
    const { route, persisted } = await p;
    return { route: routeView(route), tableVersion: gw.table.version, persisted };
  };

  admin.route('PUT', '/admin/routes/:id/weights', async ({ params, body, actor }) => {
    const b = await body();
    const weights = b.weights;
    if (!weights || typeof weights !== 'object' || Array.isArray(weights)) {
      throw new GatewayError(
        'INVALID_WEIGHTS',
        422,
        'body must be {"weights": {"<backend>": <percent>, ...}}',
      );
    }
    return respond(
      gw.changeRoute(params.id!, { weights: weights as Record<string, number> }, 'set-weights', actor),
    );
  });

  const moveAll = (action: 'promote' | 'rollback') =>
    admin.route('POST', `/admin/routes/:id/${action}`, async ({ params, body, actor }) => {
      const route = gw.route(params.id!);
      if (!route) throw new GatewayError('ROUTE_NOT_FOUND', 404, `no route "${params.id}"`);
      const b = await body();
      const target =
        typeof b.backend === 'string'
          ? b.backend
          : action === 'promote'
            ? route.migration?.to
            : route.migration?.from;
      if (!target) {
        throw new GatewayError(
          'NO_MIGRATION',
          422,
          `route "${route.id}" names no migration; send {"backend": "<name>"}`,
        );
      }
      const weights: Record<string, number> = {};
      for (const name of new Set([...Object.keys(route.weights), target]))
        weights[name] = name === target ? 100 : 0;
      return respond(gw.changeRoute(route.id, { weights }, action, actor));
    });
  moveAll('promote');
  moveAll('rollback');

  admin.route('POST', '/admin/routes/:id/shadow/pause', ({ params, actor }) =>
    respond(gw.changeRoute(params.id!, { shadowPaused: true }, 'shadow-pause', actor)),
  );
  admin.route('POST', '/admin/routes/:id/shadow/resume', ({ params, actor }) =>
    respond(gw.changeRoute(params.id!, { shadowPaused: false }, 'shadow-resume', actor)),
  );
  admin.route('DELETE', '/admin/routes/:id/override', ({ params, actor }) =>
    respond(gw.changeRoute(params.id!, null, 'clear-override', actor)),
  );

  // the shadow's endpoints: plain handlers from shadow/admin.ts, mounted here
  for (const r of shadowAdminRoutes(shadowAdminDeps(gw, collect))) {
    admin.route(r.method, r.path, async (req) => {
      const out = await r.handler(req);
      return out instanceof TextReply
        ? new RawReply(200, { 'content-type': out.contentType, ...out.headers }, out.body)
        : out;
    });
  }

  admin.route('GET', '/admin/stats', ({ query }) =>
    collectStats(gw, windowSeconds(Number(query.get('window')) || 10)),
  );

  admin.route('GET', '/admin/backends', () =>
    Object.fromEntries([...gw.table.backends.keys()].map((name) => [name, gw.pool.get(name)!.view()])),
  );

  admin.route('GET', '/admin/audit', async ({ query }) => {
    const limit = Math.min(1000, Math.max(1, Number(query.get('limit') ?? 100) || 100));
    return { entries: await gw.store.recentAudit(limit) };
  });

  registerControlPage(admin);
}
