import type { ControlPlane } from '../control/plane.ts';
import type { RawStats } from '../metrics.ts';
import { summarize, type RawWindow, windowSeconds } from '../stats.ts';
import {
  emptySnapshot,
  mergeRouteSnapshots,
  routeShadowNumbers,
  type RouteShadowSnapshot,
} from '../shadow/stats.ts';
import type { CompiledRoute } from '../table.ts';

/** JSON shapes of the admin API (documented in README.md#admin-api). */
export function routeView(route: CompiledRoute) {
  const fileWeights = route.config.split ? { ...route.config.split } : { [route.config.backend!]: 100 };
  return {
    id: route.id,
    paths: route.paths,
    methods: route.methods ? [...route.methods] : null,
    mode: route.slots.length > 1 ? ('split' as const) : ('backend' as const),
    weights: route.weights,
    fileWeights,
    sticky: route.config.sticky ?? null,
    stickyCookie: route.stickyCookie,
    fallback: route.fallback,
    shadow: route.shadow
      ? {
          backend: route.shadow.backend,
          paused: route.shadow.paused,
          percent: route.shadow.percent,
          methods: route.shadow.methods,
          mirrorWrites: route.shadow.mirrorWrites,
          noise: route.shadow.noise,
          ignore: route.shadow.ignore,
          compareHeaders: route.shadow.compareHeaders,
        }
      : null,
    migration: route.migration,
    override: route.override,
    maxBodyBytes: route.maxBodyBytes,
    stream: route.stream,
    timeoutMs: route.timeoutMs ?? null,
    idleTimeoutMs: route.idleTimeoutMs ?? null,
  };
}

export async function tableView(gw: ControlPlane) {
  const t = gw.table;
  return {
    version: t.version,
    fileVersion: t.fileVersion,
    label: t.label ?? null,
    loadedAt: t.loadedAt,
    instance: gw.instanceId,
    source: { file: gw.options.routesFile },
    persistence: await gw.persistence(),
    lastReload: gw.lastReload,
    settings: t.settings,
    backends: Object.fromEntries(
      [...t.backends.keys()].map((name) => [
        name,
        { ...gw.pool.get(name)!.view(), timeoutMs: t.backends.get(name)!.config.timeoutMs },
      ]),
    ),
    routes: t.routes.map(routeView),
    routeBreakers: gw.breakers.notClosed(),
  };
}

export function statsView(
  gw: ControlPlane,
  windowS: number,
  raws: RawStats = gw.metrics.rawWindows(windowS),
  shadowStats: Record<string, RouteShadowSnapshot> = gw.shadows.snapshot(),
  workers = 1,
) {
  const w = windowSeconds(windowS);
  const t = gw.table;
  const byKey = new Map<string, RawWindow[]>();
  for (const r of raws) {
    const k = `${r.route}\u0000${r.backend}`;
    const list = byKey.get(k) ?? [];
    list.push(r.raw);
    byKey.set(k, list);
  }
  const now = Date.now();
  const routes = t.routes.map((route) => {
    const names = new Set<string>(Object.keys(route.weights));
    if (route.fallback) names.add(route.fallback);
    for (const r of raws) if (r.route === route.id) names.add(r.backend);
    const backends: Record<string, ReturnType<typeof summarize>> = {};
    for (const name of names) backends[name] = summarize(byKey.get(`${route.id}\u0000${name}`) ?? [], w, now);
    return {
      id: route.id,
      paths: route.paths,
      methods: route.methods ? [...route.methods] : null,
      mode: route.slots.length > 1 ? 'split' : 'backend',
      weights: route.weights,
      fallback: route.fallback,
      shadow: route.shadow
        ? {
            backend: route.shadow.backend,
            paused: route.shadow.paused,
            noise: route.shadow.noise.mode,
            ...routeShadowNumbers(shadowStats[route.id] ?? emptySnapshot()),
          }
        : null,
      backends,
    };
  });
  return {
    generatedAt: new Date(now).toISOString(),
    windowSeconds: w,
    instance: gw.instanceId,
    workers,
    tableVersion: t.version,
    inFlight: gw.inFlight,
    routes,
    backends: Object.fromEntries([...t.backends.keys()].map((name) => [name, gw.pool.get(name)!.view()])),
    /** Route breakers that are open or half-open (closed ones are not listed). */
    routeBreakers: gw.breakers.notClosed(),
  };
}

/** Stats for every worker of this process group (cluster mode) or just this process. */
export async function collectStats(gw: ControlPlane, windowS: number) {
  if (!gw.options.cluster) return statsView(gw, windowS);
  const { collectClusterStats } = await import('../control/cluster.ts');
  const parts = await collectClusterStats(windowS);
  const raws = parts.flatMap((p) => p.raws);
  const shadow: Record<string, RouteShadowSnapshot> = {};
  for (const id of new Set(parts.flatMap((p) => Object.keys(p.shadow)))) {
    shadow[id] = mergeRouteSnapshots(parts.flatMap((p) => (p.shadow[id] ? [p.shadow[id]] : [])));
  }
  return statsView(gw, windowS, raws, shadow, parts.length);
}
