import { GatewayError } from '../errors.ts';
import type { CompiledRoute } from '../table.ts';
import type { NoiseSnapshot } from './noise.ts';
import { type CollectFromWorkers, clusterSource } from './cluster.ts';
import type { ShadowManager } from './mirror.ts';
import { localSource, type NoiseAction, type ShadowSource } from './source.ts';
import { emptySnapshot, routeShadowNumbers, topDifferences } from './stats.ts';

/**
 * The shadow's admin endpoints as plain handlers, independent of the router that mounts them
 * (README.md#admin-api documents each one):
 *
 *   GET  /admin/shadow                              every shadowed route's numbers
 *   GET  /admin/shadow/samples?route=&limit=        stored mismatch samples (summaries), newest first
 *   GET  /admin/shadow/samples.jsonl?route=         the stored samples, bodies included, as JSON Lines
 *   GET  /admin/shadow/samples/:sampleId            one sample with both bodies
 *   GET  /admin/routes/:id/shadow/differences?limit= top differing JSON paths, status pairs apart
 *   GET  /admin/routes/:id/shadow/noise             learned noise
 *   POST /admin/routes/:id/shadow/noise/pin         {"path": "meta.requestId"}: always noise
 *   POST /admin/routes/:id/shadow/noise/reject      {"path": ...}: never noise
 *   POST /admin/routes/:id/shadow/noise/forget      {"path": ...}: drop what was learned and decided
 *   POST /admin/routes/:id/shadow/reset             forget counts, ranked paths and samples (noise stays)
 *
 * A handler returns a JSON value, or a TextReply for another content type.
 */
export interface ShadowAdminInput {
  params: Record<string, string>;
  query: URLSearchParams;
  body(): Promise<Record<string, unknown>>;
  actor: { who: string; ip: string };
}

export class TextReply {
  readonly contentType: string;
  readonly body: string;
  readonly headers: Record<string, string>;
  constructor(contentType: string, body: string, headers: Record<string, string> = {}) {
    this.contentType = contentType;
    this.body = body;
    this.headers = headers;
  }
}

export interface ShadowAdminRoute {
  method: 'GET' | 'POST';
  path: string;
  handler(input: ShadowAdminInput): Promise<unknown>;
}

export interface ShadowAdminDeps {
  source: ShadowSource;
  /** The active table's routes. */
  routes(): readonly CompiledRoute[];
  audit(action: string, route: string, detail: unknown, actor: { who: string; ip: string }): Promise<void>;
}

/** What the handlers need from a gateway (structural, so this module does not import it). */
export interface ShadowGateway {
  shadows: ShadowManager;
  table: { routes: readonly CompiledRoute[] };
  options: { cluster?: boolean };
  instanceId: string;
  audit(entry: {
    at: string;
    who: string;
    ip: string;
    instance: string;
    action: string;
    route?: string;
    detail?: unknown;
  }): Promise<void>;
}

/** `collect`: the gateway's cluster IPC, needed when `gw.options.cluster` is set. */
export function shadowAdminDeps(gw: ShadowGateway, collect?: CollectFromWorkers): ShadowAdminDeps {
  if (gw.options.cluster && !collect)
    throw new Error('shadowAdminDeps: a cluster worker needs the collect function');
  return {
    source: gw.options.cluster && collect ? clusterSource(collect) : localSource(gw.shadows),
    routes: () => gw.table.routes,
    audit: (action, route, detail, actor) =>
      gw.audit({ at: new Date().toISOString(), ...actor, instance: gw.instanceId, action, route, detail }),
  };
}

const NOISE_ACTIONS: Record<string, NoiseAction> = { pin: 'pinned', reject: 'rejected', forget: 'forget' };

function intParam(query: URLSearchParams, name: string, fallback: number, max: number): number {
  const raw = query.get(name);
  if (raw === null) return fallback;
  if (!/^\d{1,6}$/.test(raw) || Number(raw) < 1) {
    throw new GatewayError('INVALID_QUERY', 422, `${name} must be an integer from 1 to ${max}`);
  }
  return Math.min(max, Number(raw));
}

function noiseView(route: CompiledRoute, noise: NoiseSnapshot | undefined) {
  const cfg = route.shadow!.noise;
  const snap = noise ?? { pairs: 0, untracked: 0, paths: [] };
  return {
    mode: cfg.mode,
    sampleRate: cfg.sampleRate,
    warmupPairs: cfg.warmupPairs,
    /** Pairs of served answers compared so far. */
    pairs: snap.pairs,
    warmedUp: cfg.mode !== 'learn' || snap.pairs >= cfg.warmupPairs,
    activePaths: snap.paths.filter((p) => p.state === 'pinned' || (p.state === 'learned' && p.pairs > 0))
      .length,
    untrackedPaths: snap.untracked,
    paths: [...snap.paths].sort((a, b) => b.pairs - a.pairs || (a.path < b.path ? -1 : 1)),
  };
}

export function shadowAdminRoutes(deps: ShadowAdminDeps): ShadowAdminRoute[] {
  const shadowed = (id: string): CompiledRoute => {
    const route = deps.routes().find((r) => r.id === id);
    if (!route) throw new GatewayError('ROUTE_NOT_FOUND', 404, `no route "${id}"`);
    if (!route.shadow) throw new GatewayError('NO_SHADOW', 409, `route "${id}" has no shadow`);
    return route;
  };

  const noiseAction = (verb: string): ShadowAdminRoute => ({
    method: 'POST',
    path: `/admin/routes/:id/shadow/noise/${verb}`,
    handler: async ({ params, body, actor }) => {
      const route = shadowed(params.id!);
      const { path } = await body();
      if (typeof path !== 'string' || path.length === 0 || path.length > 500) {
        throw new GatewayError(
          'INVALID_PATH',
          422,
          'body must be {"path": "<json path>"} (1..500 characters)',
        );
      }
      await deps.source.setNoise(route.id, path, NOISE_ACTIONS[verb]!);
      await deps.audit(`shadow-noise-${verb}`, route.id, { path }, actor);
      const state = await deps.source.state();
      return { route: route.id, noise: noiseView(route, state.noise[route.id]) };
    },
  });

  return [
    {
      method: 'GET',
      path: '/admin/shadow',
      handler: async () => {
        const state = await deps.source.state();
        return {
          routes: deps
            .routes()
            .filter((r) => r.shadow)
            .map((r) => {
              const noise = noiseView(r, state.noise[r.id]);
              return {
                id: r.id,
                backend: r.shadow!.backend,
                paused: r.shadow!.paused,
                percent: r.shadow!.percent,
                methods: r.shadow!.methods,
                mirrorWrites: r.shadow!.mirrorWrites,
                ...routeShadowNumbers(state.stats[r.id] ?? emptySnapshot()),
                noise: { ...noise, paths: undefined },
              };
            }),
        };
      },
    },
    {
      method: 'GET',
      path: '/admin/shadow/samples',
      handler: async ({ query }) => ({
        samples: await deps.source.samples(
          query.get('route') ?? undefined,
          intParam(query, 'limit', 50, 200),
        ),
      }),
    },
    {
      method: 'GET',
      path: '/admin/shadow/samples.jsonl',
      handler: async ({ query }) => {
        const route = query.get('route') ?? undefined;
        const samples = await deps.source.allSamples(route);
        const name = `shadow-samples${route ? `-${route.replace(/[^\w-]/g, '_')}` : ''}.jsonl`;
        return new TextReply(
          'application/jsonl; charset=utf-8',
          samples.map((s) => `${JSON.stringify(s)}\n`).join(''),
          {
            'content-disposition': `attachment; filename="${name}"`,
          },
        );
      },
    },
    {
      method: 'GET',
      path: '/admin/shadow/samples/:sampleId',
      handler: async ({ params }) => {
        const sample = await deps.source.sample(params.sampleId!);
        if (!sample) throw new GatewayError('SAMPLE_NOT_FOUND', 404, `no sample "${params.sampleId}"`);
        return sample;
      },
    },
    {
      method: 'GET',
      path: '/admin/routes/:id/shadow/differences',
      handler: async ({ params, query }) => {
        const route = shadowed(params.id!);
        const state = await deps.source.state();
        const stats = state.stats[route.id] ?? emptySnapshot();
        return {
          route: route.id,
          ...routeShadowNumbers(stats),
          ...topDifferences(stats, intParam(query, 'limit', 10, 100)),
        };
      },
    },
    {
      method: 'GET',
      path: '/admin/routes/:id/shadow/noise',
      handler: async ({ params }) => {
        const route = shadowed(params.id!);
        const state = await deps.source.state();
        return {
          route: route.id,
          ignore: route.shadow!.ignore,
          noise: noiseView(route, state.noise[route.id]),
        };
      },
    },
    noiseAction('pin'),
    noiseAction('reject'),
    noiseAction('forget'),
    {
      method: 'POST',
      path: '/admin/routes/:id/shadow/reset',
      handler: async ({ params, actor }) => {
        const route = shadowed(params.id!);
        await deps.source.reset(route.id);
        await deps.audit('shadow-reset', route.id, {}, actor);
        return { route: route.id, reset: true };
      },
    },
  ];
}
