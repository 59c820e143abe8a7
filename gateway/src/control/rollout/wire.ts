import { writeBack } from '../overrides.ts';
import type { ControlPlane } from '../plane.ts';
import { type RolloutHandlers, rolloutHandlers } from './api.ts';
import { RolloutController, type RolloutHost, type RolloutRoute } from './controller.ts';
import { type Lease, LocalLease, RedisLease } from './lease.ts';
import { type RolloutConfig, rolloutPair } from './schema.ts';
import {
  MemoryRolloutStore,
  type OverrideChange,
  RedisRolloutStore,
  type RolloutStore,
  writeRolloutStatus,
} from './store.ts';
import {
  type LocalNumbers,
  MemoryWindowStore,
  RedisWindowStore,
  WindowPublisher,
  type WindowStore,
} from './window.ts';

/**
 * The rollouts of one gateway process: reads its table, records, numbers and shadow counters;
 * applies decisions through its override store (Redis) or its admin-change path (memory).
 */
export interface RolloutOptions {
  /** Lease time to live (default 10 s): a dead leader is replaced within about this long. */
  leaseTtlMs?: number;
  /** How often this instance publishes its numbers (default 1 s). */
  publishMs?: number;
  /** Wait after a window closes before reading it (default 2 × publishMs + 500 ms). */
  settleMs?: number;
  /** How often the leader looks for due checks (default 500 ms). */
  loopMs?: number;
}

export interface Rollouts {
  controller: RolloutController;
  handlers: RolloutHandlers;
  stop(options?: { release?: boolean }): Promise<void>;
}

/** The gateway's own numbers as the publisher reads them. */
export function gatewayNumbers(gw: ControlPlane): LocalNumbers {
  return {
    rows: (seconds) =>
      gw.metrics
        .rawWindows(seconds)
        .map((r) => ({ route: r.route, backend: r.backend, rows: r.raw.seconds })),
    totals: async () => {
      const fallbacks = new Map<string, { route: string; from: string; count: number }>();
      for (const v of (await gw.metrics.fallbacks.get()).values) {
        const route = String(v.labels.route);
        const from = String(v.labels.from);
        const key = `${route}\u0000${from}`;
        const cur = fallbacks.get(key) ?? { route, from, count: 0 };
        cur.count += v.value;
        fallbacks.set(key, cur);
      }
      const shadow = Object.entries(gw.shadows.snapshot()).map(([route, s]) => ({
        route,
        compared: s.matched + s.mismatched,
        mismatched: s.mismatched,
        notCompared:
          Object.values(s.notCompared).reduce((a, b) => a + b, 0) +
          Object.values(s.dropped).reduce((a, b) => a + b, 0),
      }));
      return { fallbacks: [...fallbacks.values()], shadow };
    },
  };
}

function routesOf(gw: ControlPlane): RolloutRoute[] {
  const out: RolloutRoute[] = [];
  for (const r of gw.table.routes) {
    const config = (r.config as { rollout?: RolloutConfig }).rollout;
    if (!config) continue;
    const pair = rolloutPair(r.config);
    if (!pair) continue;
    out.push({ id: r.id, config, from: pair.from, to: pair.to, hasShadow: r.shadow !== null });
  }
  return out;
}

export async function startRollouts(gw: ControlPlane, options: RolloutOptions = {}): Promise<Rollouts> {
  const logger = gw.logger.child({ component: 'rollout' });
  const publishMs = options.publishMs ?? 1000;
  const redisUrl = gw.options.redisUrl;
  const file = gw.options.routesFile;
  const fileWrites = gw.options.writeBack !== false;
  let store: RolloutStore;
  let lease: Lease;
  let windows: WindowStore;
  if (redisUrl) {
    const redis = new RedisRolloutStore(
      redisUrl,
      gw.options.redisPrefix ?? 'pilot:gateway:',
      gw.instanceId,
      logger,
    );
    store = redis;
    lease = new RedisLease({
      redis: redis.cmd,
      prefix: gw.options.redisPrefix ?? 'pilot:gateway:',
      instance: gw.instanceId,
      ttlMs: options.leaseTtlMs,
      logger,
    });
    windows = new RedisWindowStore(
      redis.cmd,
      gw.options.redisPrefix ?? 'pilot:gateway:',
      gw.instanceId,
      logger,
    );
  } else {
    store = new MemoryRolloutStore(async (id, change: OverrideChange, by) => {
      // the admin-change path merges the change into the route's override as it is, fallback
      // included (null: the file's own fallback applies again)
      await gw.changeRoute(id, change as { weights: Record<string, number> }, 'rollout-apply', {
        who: by,
        ip: '',
      });
    });
    lease = new LocalLease(gw.instanceId);
    windows = new MemoryWindowStore();
  }
  const host: RolloutHost = {
    instanceId: gw.instanceId,
    logger,
    routes: () => routesOf(gw),
    audit: (e) =>
      gw.audit({
        at: new Date().toISOString(),
        who: e.who,
        ip: '',
        instance: gw.instanceId,
        action: e.action,
        route: e.route,
        detail: e.detail,
      }),
    writeBack: async (id, change, status) => {
      if (!fileWrites) return;
      const route = gw.route(id);
      // without Redis the admin-change path already wrote the weights
      if (change && redisUrl) {
        await writeBack(file, id, {
          weights: change.weights,
          shadowPaused: route?.shadow ? change.shadowPaused : undefined,
          migration: route?.migration ?? null,
        });
      }
      await writeRolloutStatus(
        file,
        id,
        status as { phase: never; step: number; at: string },
        change?.fallback,
      );
    },
  };
  const controller = new RolloutController({
    host,
    store,
    lease,
    windows,
    publisher: (routes) => new WindowPublisher({ local: gatewayNumbers(gw), sink: windows, routes, logger }),
    settleMs: options.settleMs ?? 2 * publishMs + 500,
    loopMs: options.loopMs,
    publishMs,
    // several workers without Redis would each drive their own copy: they only report
    drive: !(gw.options.cluster && !redisUrl),
  });
  await controller.start();
  return {
    controller,
    handlers: rolloutHandlers(controller),
    async stop(stopOptions) {
      await controller.stop(stopOptions);
      await store.close();
    },
  };
}
