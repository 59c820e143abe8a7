import type { BackendConfig } from './config/schema.ts';

/**
 * A per-backend circuit breaker fed by live traffic (passive health).
 * It opens on `consecutiveFailures` in a row (passive ejection of a dead backend) or on an error
 * rate over a short rolling window; after `openMs` one half-open probe is let through, and its
 * outcome closes or re-opens it. Hand-rolled on purpose: it sits on the hot path of a streaming
 * proxy where no promise wraps the call, and it costs a few integer operations per request.
 */
export type BreakerState = 'closed' | 'open' | 'half-open';

export class Breaker {
  state: BreakerState = 'closed';
  openedAt = 0;
  opens = 0;
  private readonly cfg: BackendConfig['breaker'];
  private consecutive = 0;
  private probeInFlight = false;
  private readonly slots: Int32Array; // [total, failures] per second
  private readonly epochs: Float64Array;
  private readonly onChange: (state: BreakerState) => void;

  constructor(cfg: BackendConfig['breaker'], onChange: (state: BreakerState) => void = () => {}) {
    this.cfg = cfg;
    const n = Math.max(1, Math.ceil(cfg.windowMs / 1000));
    this.slots = new Int32Array(n * 2);
    this.epochs = new Float64Array(n).fill(-1);
    this.onChange = onChange;
  }

  /** Whether a request may be sent now. In half-open state it admits exactly one probe. */
  allow(now = Date.now()): boolean {
    if (this.state === 'closed') return true;
    if (this.state === 'open') {
      if (now - this.openedAt < this.cfg.openMs) return false;
      this.set('half-open');
    }
    if (this.probeInFlight) return false;
    this.probeInFlight = true;
    return true;
  }

  /** Non-mutating: would `allow()` say yes? */
  peek(now = Date.now()): boolean {
    if (this.state === 'closed') return true;
    if (this.state === 'open') return now - this.openedAt >= this.cfg.openMs;
    return !this.probeInFlight;
  }

  record(ok: boolean, now = Date.now()): void {
    if (this.state === 'half-open') {
      this.probeInFlight = false;
      if (ok) {
        this.reset();
        this.set('closed');
      } else this.trip(now);
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
    this.consecutive++;
    if (this.consecutive >= this.cfg.consecutiveFailures) {
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

  /** A probe that ended without an outcome (client went away): let the next one through. */
  release(): void {
    if (this.state === 'half-open') this.probeInFlight = false;
  }

  private trip(now: number): void {
    this.openedAt = now;
    this.opens++;
    this.probeInFlight = false;
    this.reset();
    this.set('open');
  }

  private reset(): void {
    this.consecutive = 0;
    this.slots.fill(0);
    this.epochs.fill(-1);
  }

  private set(state: BreakerState): void {
    if (this.state === state) return;
    this.state = state;
    this.onChange(state);
  }
}
