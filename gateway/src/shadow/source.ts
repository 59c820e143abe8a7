import type { ShadowManager } from './mirror.ts';
import { mergeNoise, type NoiseSnapshot, type NoiseState } from './noise.ts';
import type { ShadowSample, ShadowSampleSummary } from './samples.ts';
import { mergeRouteSnapshots, type RouteShadowSnapshot } from './stats.ts';

/**
 * Where the admin API reads the shadow's numbers and applies operators' decisions: this
 * process (ShadowManager), or every node:cluster worker of it (see cluster.ts). Plain data in
 * and out, so either implementation serves the same handlers.
 */
export interface ShadowState {
  stats: Record<string, RouteShadowSnapshot>;
  noise: Record<string, NoiseSnapshot>;
}

export type NoiseAction = NoiseState | 'forget';

export interface ShadowSource {
  state(): Promise<ShadowState>;
  samples(route: string | undefined, limit: number): Promise<ShadowSampleSummary[]>;
  sample(id: string): Promise<ShadowSample | undefined>;
  /** Full samples (bodies included), newest first. */
  allSamples(route: string | undefined): Promise<ShadowSample[]>;
  setNoise(route: string, path: string, action: NoiseAction): Promise<void>;
  reset(route: string): Promise<void>;
}

export function localState(shadows: ShadowManager): ShadowState {
  const noise: Record<string, NoiseSnapshot> = {};
  for (const id of shadows.routeIds()) noise[id] = shadows.noise(id).snapshot();
  return { stats: shadows.snapshot(), noise };
}

export function applyNoise(shadows: ShadowManager, route: string, path: string, action: NoiseAction): void {
  const model = shadows.noise(route);
  if (action === 'forget') model.forget(path);
  else model.set(path, action);
}

export function localSource(shadows: ShadowManager): ShadowSource {
  return {
    state: async () => localState(shadows),
    samples: async (route, limit) => shadows.samples.list(route, limit),
    sample: async (id) => shadows.samples.get(id),
    allSamples: async (route) => shadows.samples.all(route),
    setNoise: async (route, path, action) => applyNoise(shadows, route, path, action),
    reset: async (route) => shadows.reset(route),
  };
}

/** Several workers' states as one. */
export function mergeStates(parts: readonly ShadowState[]): ShadowState {
  const stats: Record<string, RouteShadowSnapshot> = {};
  const noise: Record<string, NoiseSnapshot> = {};
  const routes = new Set(parts.flatMap((p) => [...Object.keys(p.stats), ...Object.keys(p.noise)]));
  for (const r of routes) {
    stats[r] = mergeRouteSnapshots(parts.flatMap((p) => (p.stats[r] ? [p.stats[r]] : [])));
    noise[r] = mergeNoise(parts.flatMap((p) => (p.noise[r] ? [p.noise[r]] : [])));
  }
  return { stats, noise };
}
