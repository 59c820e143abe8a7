import type { Logger } from 'pino';
import { readCustomGates } from './custom.ts';
import {
  type Command,
  check,
  command,
  dueWindow,
  initialState,
  isActive,
  reconcileConfig,
  RolloutCommandError,
  type RolloutState,
  stateFromStatus,
  type Target,
  type Transition,
} from './engine.ts';
import { emptyBackend, type WindowNumbers } from './gates.ts';
import type { Fence, Lease } from './lease.ts';
import type { RolloutConfig, Step } from './schema.ts';
import { notify, type OverrideChange, type RolloutStore } from './store.ts';
import type { WindowPublisher, WindowSource } from './window.ts';

/**
 * Runs the rollouts: on the leader, a loop takes each due check (fleet numbers from the window
 * source, custom gates), feeds the engine and commits the transition (fenced; the override moves
 * with it); on every instance it keeps publishing numbers and answers status and commands.
 * A person's command is committed by whichever instance received it (compare-and-set on the
 * state version), so it never waits for the leader.
 */

/** A route of the active table that has a `rollout:` block. */
export interface RolloutRoute {
  id: string;
  config: RolloutConfig;
  from: string;
  to: string;
  hasShadow: boolean;
}

/** What the controller needs from the gateway it runs in (wire.ts provides it). */
export interface RolloutHost {
  readonly instanceId: string;
  readonly logger: Logger;
  routes(): RolloutRoute[];
  audit(entry: { action: string; route: string; who: string; detail: unknown }): Promise<void>;
  /** Records a transition in the table file (weights when they moved, and `rollout.status`). */
  writeBack(
    route: string,
    change: OverrideChange | null,
    status: { phase: string; step: number; at: string },
  ): Promise<void>;
}

export interface RolloutControllerOptions {
  host: RolloutHost;
  store: RolloutStore;
  lease: Lease;
  windows: WindowSource;
  /** Builds this instance's publisher, which publishes the routes the controller names. */
  publisher?: (activeRoutes: () => ReadonlySet<string>) => WindowPublisher;
  now?: () => number;
  /** How long after a window closes every instance has published its numbers (default 2.5 s). */
  settleMs?: number;
  /** How often the leader looks for due checks (default 500 ms; 0: only when tick() is called). */
  loopMs?: number;
  /** How often numbers are published (default 1 s). */
  publishMs?: number;
  /** False when this process must not drive (several workers without Redis): status only. */
  drive?: boolean;
}

export interface ActorInfo {
  who: string;
  ip?: string;
}

/** Weights (old backend first, so a raise only moves old-backend users) and shadow for a target. */
export function changeFor(route: RolloutRoute, target: Target): OverrideChange {
  const { from, to } = route;
  const shadow = route.hasShadow;
  switch (target.kind) {
    case 'promote':
      return { weights: { [from]: 0, [to]: 100 }, fallback: from };
    case 'rollback':
      return { weights: { [from]: 100, [to]: 0 }, fallback: null, ...(shadow ? { shadowPaused: true } : {}) };
    case 'step': {
      const p = target.step === 'shadow' ? 0 : target.step;
      return { weights: { [from]: 100 - p, [to]: p }, ...(shadow ? { shadowPaused: false } : {}) };
    }
  }
}

export function describeStep(value: Step | null, to: string): string {
  if (value === null) return 'not started';
  if (value === 'shadow') return `shadow (${to} gets mirrored copies only)`;
  return `${value}% on ${to}`;
}

export class RolloutController {
  readonly host: RolloutHost;
  readonly store: RolloutStore;
  readonly lease: Lease;
  private readonly windows: WindowSource;
  private readonly publisher: WindowPublisher | undefined;
  private readonly now: () => number;
  readonly settleMs: number;
  private readonly loopMs: number;
  private readonly publishMs: number;
  private readonly drives: boolean;
  private readonly cache = new Map<string, RolloutState>();
  private readonly customPrevious = new Map<string, Map<string, number>>();
  private timer: NodeJS.Timeout | null = null;
  private cacheTimer: NodeJS.Timeout | null = null;
  private loop: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(options: RolloutControllerOptions) {
    this.host = options.host;
    this.store = options.store;
    this.lease = options.lease;
    this.windows = options.windows;
    this.publisher = options.publisher?.(() => this.activeRoutes());
    this.now = options.now ?? Date.now;
    this.settleMs = options.settleMs ?? 2500;
    this.loopMs = options.loopMs ?? 500;
    this.publishMs = options.publishMs ?? 1000;
    this.drives = options.drive !== false;
  }

  get log(): Logger {
    return this.host.logger;
  }

  /** Routes whose numbers are worth publishing: a rollout block, started and not finished. */
  activeRoutes(): ReadonlySet<string> {
    const out = new Set<string>();
    for (const r of this.host.routes()) {
      const s = this.cache.get(r.id);
      if (s ? isActive(s.phase) && s.phase !== 'pending' : r.config.start === 'auto') out.add(r.id);
    }
    return out;
  }

  async start(): Promise<void> {
    await this.store.subscribe((route) => void this.refresh(route));
    await this.refreshAll();
    this.publisher?.start(this.publishMs);
    this.cacheTimer = setInterval(() => void this.refreshAll(), 5000);
    this.cacheTimer.unref();
    if (!this.drives) return;
    await this.lease.start();
    // loopMs 0: the caller ticks (tests on a fake clock)
    if (this.loopMs > 0) {
      this.timer = setInterval(() => void this.tick(), this.loopMs);
      this.timer.unref();
      void this.tick();
    }
  }

  /** Stops driving; `release: false` simulates a crash (the lease is left to expire). */
  async stop(options: { release?: boolean } = {}): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    if (this.cacheTimer) clearInterval(this.cacheTimer);
    await this.loop;
    await this.publisher?.stop();
    await this.lease.stop(options.release !== false);
  }

  private async refresh(route: string): Promise<void> {
    try {
      const s = await this.store.load(route);
      if (s) this.cache.set(route, s);
    } catch {}
  }

  private async refreshAll(): Promise<void> {
    try {
      for (const [route, s] of await this.store.loadAll()) this.cache.set(route, s);
    } catch (error) {
      this.log.warn({ err: (error as Error).message }, 'rollout states unavailable');
    }
  }

  /** One pass of the leader's loop (the timer calls it; tests may too). */
  tick(): Promise<void> {
    this.loop = this.loop.then(async () => {
      if (this.stopped) return;
      const fence = this.lease.current();
      if (!fence) return;
      for (const route of this.host.routes()) {
        try {
          await this.drive(route, fence);
        } catch (error) {
          this.log.error(
            { route: route.id, err: (error as Error).message },
            'rollout step failed; retrying next round',
          );
        }
      }
    });
    return this.loop;
  }

  private async drive(route: RolloutRoute, fence: Fence): Promise<void> {
    const now = this.now();
    const state = await this.store.load(route.id);
    if (!state) {
      const status = route.config.status;
      const t = status
        ? stateFromStatus(route.id, route.config, status, now)
        : initialState(route.id, route.config, now);
      // a state restored from the file is new to the store: its version starts over
      await this.commit(route, { ...t, state: { ...t.state, version: 1 } }, 0, fence, 'rollout');
      return;
    }
    const changed = reconcileConfig(state, route.config, now);
    if (changed) {
      await this.commit(route, changed, state.version, fence, 'rollout');
      return;
    }
    const range = dueWindow(state, route.config, now, this.settleMs);
    if (!range) return;
    const fleet = await this.windows.read(route.id, range.from, range.to);
    const numbers: WindowNumbers = {
      old: fleet.backends[route.from] ?? emptyBackend(),
      new: fleet.backends[route.to] ?? emptyBackend(),
      shadow: fleet.shadow,
    };
    let previous = this.customPrevious.get(route.id);
    if (!previous) {
      previous = new Map();
      this.customPrevious.set(route.id, previous);
    }
    const custom =
      route.config.gates.custom.length > 0 ? await readCustomGates(route.config.gates.custom, previous) : {};
    const t = check(state, route.config, range, numbers, this.now(), custom);
    await this.commit(route, t, state.version, fence, 'rollout');
  }

  /**
   * Records a transition (and moves the route with it). Returns false when someone else's write
   * came first (stale) or this instance no longer leads (fenced): nothing was applied.
   */
  private async commit(
    route: RolloutRoute,
    t: Transition,
    expectedVersion: number,
    fence: Fence | null,
    by: string,
  ): Promise<boolean> {
    const change = t.apply ? changeFor(route, t.apply) : undefined;
    const result = await this.store.commit({ state: t.state, expectedVersion, fence, change, by });
    if (result !== 'ok') {
      this.log.info({ route: route.id, result, version: t.state.version }, 'rollout transition not applied');
      return false;
    }
    this.cache.set(route.id, t.state);
    if (t.event || change) await this.after(route, t, change ?? null);
    return true;
  }

  private async after(route: RolloutRoute, t: Transition, change: OverrideChange | null): Promise<void> {
    const s = t.state;
    const at = new Date(s.updatedAt).toISOString();
    const text = this.describe(route, t);
    this.log.info(
      {
        route: route.id,
        event: t.event?.event,
        phase: s.phase,
        step: s.step,
        value: s.value,
        by: t.event?.by,
      },
      text,
    );
    if (t.event) {
      await this.host.audit({
        action: `rollout-${t.event.event}`,
        route: route.id,
        who: t.event.by,
        detail: {
          phase: s.phase,
          step: s.step,
          value: s.value,
          weights: change?.weights,
          detail: t.event.detail,
          check: t.event.event === 'rollback' || t.event.event === 'check-failed' ? s.lastCheck : undefined,
        },
      });
      if (route.config.notify) {
        void notify(
          route.config.notify,
          {
            text,
            route: route.id,
            event: t.event.event,
            phase: s.phase,
            step: s.step,
            value: s.value,
            by: t.event.by,
            at,
            reason: s.reason,
            failure: s.failure,
          },
          this.log,
        );
      }
    }
    try {
      await this.host.writeBack(route.id, change, { phase: s.phase, step: s.step, at });
    } catch (error) {
      this.log.error(
        { route: route.id, err: (error as Error).message },
        'rollout write-back to the table file failed',
      );
    }
  }

  describe(route: RolloutRoute, t: Transition): string {
    const s = t.state;
    const e = t.event;
    const where = describeStep(s.value, route.to);
    const n = route.config.steps.length;
    const head = `Rollout of route "${route.id}" (${route.from} → ${route.to})`;
    switch (e?.event) {
      case 'start':
        return `${head} started: ${where} (step ${s.step + 1}/${n})`;
      case 'advance':
        return `${head} advanced to ${where} (step ${s.step + 1}/${n})`;
      case 'promote':
        return `${head} promoted: ${route.to} serves 100%, ${route.from} kept as fallback`;
      case 'check-failed':
        return `${head}: a check failed at ${where}: ${e.detail}`;
      case 'rollback':
        return `${head} ROLLED BACK to ${route.from}: ${e.detail}`;
      case 'abort':
        return `${head} aborted by ${e.by}: all traffic back to ${route.from}`;
      case 'skip':
        return s.phase === 'promoted'
          ? `${head}: ${e.by} skipped to the end: ${route.to} serves 100%`
          : `${head}: ${e.by} skipped to ${where}`;
      case 'pause':
      case 'resume':
      case 'restart': {
        const done = { pause: 'paused', resume: 'resumed', restart: 'restarted' }[e.event];
        return `${head} ${done} by ${e.by}: ${where}`;
      }
      case 'config-changed':
        return `${head}: rollout block changed (${e.detail ?? 'recorded'})`;
      default:
        return `${head}: ${where}`;
    }
  }

  route(id: string): RolloutRoute {
    const route = this.host.routes().find((r) => r.id === id);
    if (!route) throw new RolloutCommandError('ROLLOUT_NOT_FOUND', `route "${id}" has no rollout block`, 404);
    return route;
  }

  /** A person's command, from the admin API, control page or `./pilot rollout`. */
  async command(id: string, cmd: Command, actor: ActorInfo): Promise<RolloutState> {
    const route = this.route(id);
    for (let attempt = 0; attempt < 5; attempt++) {
      const now = this.now();
      let state = await this.store.load(id);
      let expected = state?.version ?? 0;
      if (!state) {
        // nobody recorded this rollout yet (no leader so far): start from its initial state
        state = initialState(id, { ...route.config, start: 'manual' }, now).state;
        state = { ...state, version: 0 };
        expected = 0;
      }
      const t = command(state, route.config, cmd, now, actor.who);
      if (await this.commit(route, t, expected, null, actor.who)) return t.state;
    }
    throw new RolloutCommandError(
      'ROLLOUT_BUSY',
      'the rollout kept changing under the command; try again',
      503,
    );
  }

  /** Fresh states of every configured rollout. */
  async states(): Promise<Array<{ route: RolloutRoute; state: RolloutState | null }>> {
    const all = await this.store.loadAll();
    for (const [id, s] of all) this.cache.set(id, s);
    return this.host.routes().map((route) => ({ route, state: all.get(route.id) ?? null }));
  }

  /** The JSON shape of GET /admin/rollouts[/:id] (README.md#rollout-api). */
  view(route: RolloutRoute, state: RolloutState | null) {
    const now = this.now();
    const c = route.config;
    const next = state ? dueWindow(state, c, Number.MAX_SAFE_INTEGER, this.settleMs) : null;
    return {
      route: route.id,
      from: route.from,
      to: route.to,
      phase: state?.phase ?? 'pending',
      step: state?.step ?? -1,
      value: state?.value ?? null,
      current: describeStep(state?.value ?? null, route.to),
      steps: c.steps,
      stepStartedAt: state?.stepStartedAt ? new Date(state.stepStartedAt).toISOString() : null,
      timeInStepMs: state?.stepStartedAt ? Math.max(0, now - state.stepStartedAt) : null,
      nextCheckAt: next ? new Date(next.to + this.settleMs).toISOString() : null,
      interval: c.interval,
      minRequests: c.minRequests,
      failedChecks: state?.failedChecks ?? 0,
      maxFailedChecks: c.maxFailedChecks,
      gates: c.gates,
      window: state?.window
        ? {
            from: new Date(state.window.from).toISOString(),
            to: new Date(state.window.to).toISOString(),
            old: { requests: state.window.numbers.old.requests, errors: state.window.numbers.old.errors },
            new: { requests: state.window.numbers.new.requests, errors: state.window.numbers.new.errors },
            shadow: state.window.numbers.shadow,
          }
        : null,
      lastCheck: state?.lastCheck ?? null,
      failure: state?.failure ?? null,
      reason: state?.reason ?? (state ? null : 'waiting for the leader to record it'),
      timeline: state?.timeline ?? [],
      version: state?.version ?? 0,
      updatedAt: state ? new Date(state.updatedAt).toISOString() : null,
      driver: this.drives ? this.lease.kind : 'none',
    };
  }
}
