import type { OutlierConfig } from '../config/schema.ts';
import { HalfOpenShare } from './share.ts';

/**
 * Whether a backend takes traffic: one state for active health checks and passive outlier
 * detection, so the two can never disagree (the admin views' `healthy` and `breaker` are two
 * names for this state).
 *
 * - `up` (breaker closed): every request is admitted.
 * - `down` (open): ejected, by failing health checks (`health`), by `consecutiveGatewayFailures`
 *   connection-level failures in a row (`gateway-failures`), or by a stall (`stall`: requests
 *   waiting, nothing answered, the probe unanswered). Requests go to a fallback or get a 503.
 *   A passive ejection lasts `ejectionMs`, doubled for each ejection in a row (up to
 *   `maxEjectionMs`), and ends only while the health check passes.
 * - `recovering` (half-open): `halfOpenPercent` of the requests are admitted; one gateway
 *   failure or failing health check ejects again; `halfOpenSuccesses` successes (answers of
 *   any status, passing health checks) bring it `up`.
 *
 * Pure: the clock is passed in, and `onChange` reports every transition.
 */
export type Availability = 'up' | 'down' | 'recovering';
export type EjectReason = 'health' | 'gateway-failures' | 'stall';

export class Outlier {
  status: Availability = 'up';
  reason: EjectReason | null = null;
  ejectedAt = 0;
  ejectedUntil = 0;
  /** Ejections since the backend was last fully up (the backoff exponent). */
  ejectionsInARow = 0;
  totalEjections = 0;
  /** The active health check's verdict (true until checks say otherwise, or with checks off). */
  healthOk = true;
  private consecutive = 0;
  private successes = 0;
  private readonly share: HalfOpenShare;
  private readonly cfg: OutlierConfig;
  private readonly onChange: (status: Availability, reason: EjectReason | null) => void;

  constructor(cfg: OutlierConfig, onChange: (status: Availability, reason: EjectReason | null) => void) {
    this.cfg = cfg;
    this.share = new HalfOpenShare(cfg.halfOpenPercent);
    this.onChange = onChange;
  }

  /** May a request be sent now? (takes a half-open share slot) */
  admit(now: number): boolean {
    if (this.status === 'up') return true;
    if (this.status === 'down' && !this.refresh(now)) return false;
    return this.share.admit();
  }

  /** Without side effects: would a request be considered at all? */
  available(now: number): boolean {
    return this.status !== 'down' || this.canRecover(now);
  }

  /** Moves down → recovering once the ejection is over and health agrees; true when not down. */
  refresh(now: number): boolean {
    if (this.status !== 'down') return true;
    if (!this.canRecover(now)) return false;
    this.successes = 0;
    this.share.reset();
    this.set('recovering', this.reason);
    return true;
  }

  private canRecover(now: number): boolean {
    return this.healthOk && now >= this.ejectedUntil;
  }

  /** The backend answered (any status): it is alive. */
  success(): void {
    this.consecutive = 0;
    if (this.status === 'recovering' && ++this.successes >= this.cfg.halfOpenSuccesses) {
      this.ejectionsInARow = 0;
      this.reason = null;
      this.set('up', null);
    }
  }

  /** A connection-level failure: refused, reset after the request was sent. */
  gatewayFailure(now: number): void {
    if (this.status === 'down') return;
    this.consecutive++;
    if (this.status === 'recovering' || this.consecutive >= this.cfg.consecutiveGatewayFailures) {
      this.eject('gateway-failures', now);
    }
  }

  /** Requests waited `stallMs` with nothing answered, and the probe went unanswered too. */
  stalled(now: number): void {
    if (this.status !== 'down') this.eject('stall', now);
  }

  /** The active health check crossed its threshold. */
  health(ok: boolean, now: number): void {
    this.healthOk = ok;
    if (!ok) {
      if (this.status !== 'down') this.eject('health', now);
      return;
    }
    this.refresh(now);
  }

  /** One passing health check: counts towards closing while recovering. */
  healthPass(): void {
    if (this.status === 'recovering') this.success();
  }

  private eject(reason: EjectReason, now: number): void {
    this.consecutive = 0;
    this.ejectionsInARow++;
    this.totalEjections++;
    this.ejectedAt = now;
    const backoff = Math.min(
      this.cfg.ejectionMs * 2 ** Math.min(this.ejectionsInARow - 1, 16),
      this.cfg.maxEjectionMs,
    );
    // a failing health check decides by itself when it is over; a passive ejection has a minimum
    this.ejectedUntil = reason === 'health' ? now : now + backoff;
    this.reason = reason;
    this.set('down', reason);
  }

  private set(status: Availability, reason: EjectReason | null): void {
    if (this.status === status) return;
    this.status = status;
    this.onChange(status, reason);
  }
}

/** The breaker vocabulary of the admin views and metrics, for the same state. */
export function breakerStateOf(status: Availability): 'closed' | 'open' | 'half-open' {
  return status === 'up' ? 'closed' : status === 'down' ? 'open' : 'half-open';
}
