import type { BreakerConfig } from '../config/schema.ts';
import { HalfOpenShare } from './share.ts';

/**
 * One breaker per route and backend, fed by that route's outcomes on that backend: the
 * backend's 5xx answers and the route's timeouts (a dependency of the route failing). It never
 * sees another route's traffic, so `/articles` failing because Strapi is down cannot touch
 * `/health` or `/auth/login` on the same backend.
 *
 * Open: `allow()` says no, and the gateway sends the request to an alternative if it has one
 * (choose.ts, pickBackend); after `openMs` it is half-open and lets `halfOpenPercent` of the requests
 * through; `halfOpenSuccesses` answers below 500 close it, one failure opens it again.
 *
 * Hand-rolled (a few integer operations per request, no promise to wrap): cockatiel and
 * opossum wrap an async call and, half-open, let exactly one call through (cockatiel) or all of
 * them (opossum); a proxy's outcome arrives on stream callbacks, and a share is what we want.
 */
export type BreakerState = 'closed' | 'open' | 'half-open';

export class RouteBreaker {
  state: BreakerState = 'closed';
  openedAt = 0;
  opens = 0;
  private readonly cfg: BreakerConfig;
  private consecutive = 0;
  private successes = 0;
  private readonly share: HalfOpenShare;
  private readonly slots: Int32Array; // [total, failures] per second of the window
  private readonly epochs: Float64Array;
  private readonly onChange: (state: BreakerState) => void;

  constructor(cfg: BreakerConfig, onChange: (state: BreakerState) => void = () => {}) {
    this.cfg = cfg;
    const n = Math.max(1, Math.ceil(cfg.windowMs / 1000));
    this.slots = new Int32Array(n * 2);
    this.epochs = new Float64Array(n).fill(-1);
    this.share = new HalfOpenShare(cfg.halfOpenPercent);
    this.onChange = onChange;
  }

  /** Should this request go to the backend? (false: send it elsewhere if there is an elsewhere) */
  allow(now = Date.now()): boolean {
    if (this.state === 'closed') return true;
    if (this.state === 'open') {
      if (now - this.openedAt < this.cfg.openMs) return false;
      this.successes = 0;
      this.share.reset();
      this.set('half-open');
    }
    return this.share.admit();
  }

  /** Without side effects: is it closed? (used to judge alternatives) */
  get closed(): boolean {
    return this.state === 'closed';
  }

  record(ok: boolean, now = Date.now()): void {
    if (this.state === 'half-open') {
      if (!ok) {
        this.trip(now);
        return;
      }
      if (++this.successes >= this.cfg.halfOpenSuccesses) {
        this.reset();
        this.set('closed');
      }
      return;
    }
    if (this.state === 'open') return;
    const sec = Math.floor(now / 1000);
    const i = sec % this.epochs.length;
    if (this.epochs[i] !== sec) {
      this.epochs[i] = sec;
      this.slots[i * 2] = 0;
      this.slots[i * 2 + 1] = 0;
    }
    this.slots[i * 2]!++;
    if (ok) {
      this.consecutive = 0;
      return;
    }
    this.slots[i * 2 + 1]!++;
    if (++this.consecutive >= this.cfg.consecutive5xx) {
      this.trip(now);
      return;
    }
    let total = 0;
    let failures = 0;
    const oldest = sec - this.epochs.length + 1;
    for (let j = 0; j < this.epochs.length; j++) {
      if (this.epochs[j]! >= oldest) {
        total += this.slots[j * 2]!;
        failures += this.slots[j * 2 + 1]!;
      }
    }
    if (total >= this.cfg.minRequests && (failures * 100) / total >= this.cfg.errorRatePercent)
      this.trip(now);
  }

  private trip(now: number): void {
    this.openedAt = now;
    this.opens++;
    this.reset();
    this.set('open');
  }

  private reset(): void {
    this.consecutive = 0;
    this.successes = 0;
    this.slots.fill(0);
    this.epochs.fill(-1);
  }

  private set(state: BreakerState): void {
    if (this.state === state) return;
    this.state = state;
    this.onChange(state);
  }
}

/**
 * The breakers of a table, by route and backend, created on first use. They survive reloads
 * while the route keeps its id and its breaker settings.
 */
export class RouteBreakers {
  /** route id → backend name → breaker: two lookups per request, no key to build. */
  private readonly byRoute = new Map<string, Map<string, { cfg: BreakerConfig; breaker: RouteBreaker }>>();
  private readonly onChange: (route: string, backend: string, state: BreakerState) => void;

  constructor(onChange: (route: string, backend: string, state: BreakerState) => void) {
    this.onChange = onChange;
  }

  get(route: string, backend: string, cfg: BreakerConfig): RouteBreaker {
    let byBackend = this.byRoute.get(route);
    if (!byBackend) {
      byBackend = new Map();
      this.byRoute.set(route, byBackend);
    }
    const entry = byBackend.get(backend);
    if (entry && entry.cfg === cfg) return entry.breaker;
    const breaker = new RouteBreaker(cfg, (state) => this.onChange(route, backend, state));
    byBackend.set(backend, { cfg, breaker });
    return breaker;
  }

  /** Drops the breakers of routes or backends that are gone, keeps the rest (called on reload). */
  retain(routes: ReadonlyMap<string, BreakerConfig>, backends: ReadonlySet<string>): void {
    for (const [route, byBackend] of this.byRoute) {
      const cfg = routes.get(route);
      if (!cfg) {
        this.byRoute.delete(route);
        continue;
      }
      const same = (other: BreakerConfig) => JSON.stringify(cfg) === JSON.stringify(other);
      for (const [backend, entry] of byBackend) {
        if (!backends.has(backend) || !same(entry.cfg)) byBackend.delete(backend);
        else entry.cfg = cfg;
      }
    }
  }

  /** Every breaker that is not closed, for the admin views. */
  notClosed(): Array<{
    route: string;
    backend: string;
    state: BreakerState;
    opens: number;
    openedAt: string;
  }> {
    const out = [];
    for (const [route, byBackend] of this.byRoute) {
      for (const [backend, { breaker }] of byBackend) {
        if (breaker.state === 'closed') continue;
        out.push({
          route,
          backend,
          state: breaker.state,
          opens: breaker.opens,
          openedAt: new Date(breaker.openedAt).toISOString(),
        });
      }
    }
    return out;
  }

  state(route: string, backend: string): BreakerState {
    return this.byRoute.get(route)?.get(backend)?.breaker.state ?? 'closed';
  }
}
