import type { ShadowManager } from './mirror.ts';
import type { ShadowSample, ShadowSampleSummary } from './samples.ts';
import {
  applyNoise,
  localState,
  mergeStates,
  type NoiseAction,
  type ShadowSource,
  type ShadowState,
} from './source.ts';

/**
 * The shadow across node:cluster workers: each worker mirrors, counts, learns and keeps samples
 * on its own; the admin API (answered by any worker) asks all of them through the primary and
 * merges, and an operator's noise decision or reset is applied on every worker. The IPC itself
 * is the gateway's (cluster.ts), handed in, so the shadow does not depend on the wiring.
 */
export type ServeWorker = (kind: string, fn: (args: Record<string, unknown>) => unknown) => void;
export type CollectFromWorkers = <T>(kind: string, args?: Record<string, unknown>) => Promise<T[]>;

export function serveShadowWorker(shadows: ShadowManager, serveWorker: ServeWorker): void {
  serveWorker('samples', (args) =>
    shadows.samples.list(args.route as string | undefined, Number(args.limit)),
  );
  serveWorker('sample', (args) => shadows.samples.get(String(args.id)) ?? null);
  serveWorker('shadow:all-samples', (args) => shadows.samples.all(args.route as string | undefined));
  serveWorker('shadow:state', () => localState(shadows));
  serveWorker('shadow:noise', (args) => {
    applyNoise(shadows, String(args.route), String(args.path), args.action as NoiseAction);
    return true;
  });
  serveWorker('shadow:reset', (args) => {
    shadows.reset(String(args.route));
    return true;
  });
}

const newestFirst = <T extends { at: string }>(list: T[]) =>
  list.sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));

export function clusterSource(collectFromWorkers: CollectFromWorkers): ShadowSource {
  return {
    state: async () => mergeStates(await collectFromWorkers<ShadowState>('shadow:state')),
    samples: async (route, limit) =>
      newestFirst(
        (await collectFromWorkers<ShadowSampleSummary[]>('samples', { route, limit })).flat(),
      ).slice(0, limit),
    sample: async (id) =>
      (await collectFromWorkers<ShadowSample | null>('sample', { id })).find((s) => s) ?? undefined,
    allSamples: async (route) =>
      newestFirst((await collectFromWorkers<ShadowSample[]>('shadow:all-samples', { route })).flat()),
    setNoise: async (route, path, action) => {
      await collectFromWorkers('shadow:noise', { route, path, action });
    },
    reset: async (route) => {
      await collectFromWorkers('shadow:reset', { route });
    },
  };
}
