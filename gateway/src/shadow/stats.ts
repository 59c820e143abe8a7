import { type Difference, generalizePath } from './diff.ts';
import { preview } from './noise.ts';

/**
 * What the shadow of one route has shown so far, as counts an operator can promote on.
 *
 * Every mirrored request ends in exactly one of: *match*, *mismatch* (both: compared), or
 * *not compared*, by reason. The mismatch rate divides mismatches by compared pairs only, and
 * comes with its 95% Wilson score interval, so 0 of 3 is not read as "0%". Mirrors never sent
 * (too many in flight, body over the limit) are *dropped*, apart from both.
 *
 * Not-compared reasons:
 * - `too_large`: a body over the route's shadow `maxBodyBytes` (status and headers agreed);
 * - `not_json`: the served answer says it is JSON and does not parse (status and headers agreed):
 *   there is no reference to hold the shadow's answer against;
 * - `streaming`: the served answer is a stream (text/event-stream), which never completes;
 * - `shadow_error` / `shadow_timeout`: the shadow backend gave no answer (connect error, reset,
 *   or nothing within the shadow's `timeoutMs`);
 * - `primary_error`: the served backend gave no complete answer (error, client went away);
 * - `learning_noise`: noise learning is on and has not yet seen `warmupPairs` pairs.
 *
 * Which fields differ: per route the JSON paths that differed (generalised over list positions),
 * each counted once per mismatching pair, with the first example; status-code pairs apart.
 */
export const NOT_COMPARED_REASONS = [
  'too_large',
  'not_json',
  'streaming',
  'shadow_error',
  'shadow_timeout',
  'primary_error',
  'learning_noise',
] as const;
export type NotComparedReason = (typeof NOT_COMPARED_REASONS)[number];

export const DROP_REASONS = ['concurrency', 'body'] as const;
export type DropReason = (typeof DROP_REASONS)[number];

export interface DiffExample {
  at: string;
  method: string;
  path: string;
  requestId: string;
  sampleId: string | null;
  /** The concrete place of this example (`data.3.title` for the path `data.*.title`). */
  field: string;
  primary: unknown;
  shadow: unknown;
}

export interface PathCount {
  path: string;
  count: number;
  example: DiffExample;
}

export interface StatusCount {
  primary: number;
  shadow: number;
  count: number;
  example: DiffExample;
}

export interface RouteShadowSnapshot {
  since: string;
  mirrored: number;
  matched: number;
  mismatched: number;
  notCompared: Record<NotComparedReason, number>;
  dropped: Record<DropReason, number>;
  /** Mismatching pairs whose only differences were the status. */
  statusOnly: number;
  paths: PathCount[];
  statuses: StatusCount[];
  /** Distinct paths seen after the table was full (counted, not ranked). */
  untrackedPaths: number;
}

const MAX_PATHS = 1000;

const zeros = <K extends string>(keys: readonly K[]) =>
  Object.fromEntries(keys.map((k) => [k, 0])) as Record<K, number>;

export class RouteShadowStats {
  since = new Date().toISOString();
  mirrored = 0;
  matched = 0;
  mismatched = 0;
  statusOnly = 0;
  untrackedPaths = 0;
  readonly notCompared = zeros(NOT_COMPARED_REASONS);
  readonly dropped = zeros(DROP_REASONS);
  private readonly paths = new Map<string, PathCount>();
  private readonly statuses = new Map<string, StatusCount>();

  notComparedTotal(): number {
    let n = 0;
    for (const r of NOT_COMPARED_REASONS) n += this.notCompared[r];
    return n;
  }

  recordMismatch(
    differences: readonly Difference[],
    example: Omit<DiffExample, 'primary' | 'shadow' | 'field'>,
  ): void {
    this.mismatched++;
    const seen = new Set<string>();
    let fields = 0;
    for (const d of differences) {
      if (d.path === '$status') {
        const primary = Number(d.primary);
        const shadow = Number(d.shadow);
        const key = `${primary}>${shadow}`;
        const entry = this.statuses.get(key);
        if (entry) entry.count++;
        else
          this.statuses.set(key, {
            primary,
            shadow,
            count: 1,
            example: { ...example, field: '$status', primary, shadow },
          });
        continue;
      }
      fields++;
      const path = generalizePath(d.path);
      if (seen.has(path)) continue;
      seen.add(path);
      const entry = this.paths.get(path);
      if (entry) entry.count++;
      else if (this.paths.size < MAX_PATHS) {
        this.paths.set(path, {
          path,
          count: 1,
          example: { ...example, field: d.path, primary: preview(d.primary), shadow: preview(d.shadow) },
        });
      } else this.untrackedPaths++;
    }
    if (fields === 0) this.statusOnly++;
  }

  snapshot(): RouteShadowSnapshot {
    return {
      since: this.since,
      mirrored: this.mirrored,
      matched: this.matched,
      mismatched: this.mismatched,
      notCompared: { ...this.notCompared },
      dropped: { ...this.dropped },
      statusOnly: this.statusOnly,
      paths: [...this.paths.values()].map((p) => ({ ...p })),
      statuses: [...this.statuses.values()].map((s) => ({ ...s })),
      untrackedPaths: this.untrackedPaths,
    };
  }
}

export function emptySnapshot(): RouteShadowSnapshot {
  return new RouteShadowStats().snapshot();
}

/** Several processes' numbers for one route as one (cluster workers count separately). */
export function mergeRouteSnapshots(parts: readonly RouteShadowSnapshot[]): RouteShadowSnapshot {
  const out = emptySnapshot();
  if (parts.length > 0) out.since = parts.map((p) => p.since).sort()[0]!;
  const paths = new Map<string, PathCount>();
  const statuses = new Map<string, StatusCount>();
  for (const p of parts) {
    out.mirrored += p.mirrored;
    out.matched += p.matched;
    out.mismatched += p.mismatched;
    out.statusOnly += p.statusOnly;
    out.untrackedPaths += p.untrackedPaths;
    for (const r of NOT_COMPARED_REASONS) out.notCompared[r] += p.notCompared[r] ?? 0;
    for (const r of DROP_REASONS) out.dropped[r] += p.dropped[r] ?? 0;
    for (const x of p.paths) {
      const acc = paths.get(x.path);
      if (acc) acc.count += x.count;
      else paths.set(x.path, { ...x });
    }
    for (const s of p.statuses) {
      const key = `${s.primary}>${s.shadow}`;
      const acc = statuses.get(key);
      if (acc) acc.count += s.count;
      else statuses.set(key, { ...s });
    }
  }
  out.paths = [...paths.values()];
  out.statuses = [...statuses.values()];
  return out;
}

export interface Interval {
  /** Mismatched / compared, or null before anything was compared. */
  rate: number | null;
  lower: number | null;
  upper: number | null;
}

/** 95% Wilson score interval of k successes in n trials. */
export function wilson(k: number, n: number, z = 1.959964): Interval {
  if (n <= 0) return { rate: null, lower: null, upper: null };
  const p = k / n;
  const z2 = z * z;
  const denom = 1 + z2 / n;
  const center = (p + z2 / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom;
  return { rate: p, lower: Math.max(0, center - half), upper: Math.min(1, center + half) };
}

const round = (x: number | null) => (x === null ? null : Math.round(x * 1_000_000) / 1_000_000);

/** The numbers of one route as the admin API and the control page show them. */
export function routeShadowNumbers(s: RouteShadowSnapshot) {
  const compared = s.matched + s.mismatched;
  const notCompared = NOT_COMPARED_REASONS.reduce((n, r) => n + s.notCompared[r], 0);
  const dropped = DROP_REASONS.reduce((n, r) => n + s.dropped[r], 0);
  const interval = wilson(s.mismatched, compared);
  return {
    since: s.since,
    mirrored: s.mirrored,
    compared,
    matched: s.matched,
    mismatched: s.mismatched,
    notCompared,
    notComparedBy: { ...s.notCompared },
    dropped,
    droppedBy: { ...s.dropped },
    /** mismatched / compared; null when nothing was compared. */
    mismatchRate: round(interval.rate),
    /** 95% Wilson score interval of mismatchRate. */
    mismatchRateInterval: { lower: round(interval.lower), upper: round(interval.upper), confidence: 0.95 },
  };
}

/** The top differing paths (and every status pair), most frequent first. */
export function topDifferences(s: RouteShadowSnapshot, limit = 10) {
  const byCount = <T extends { count: number }>(a: T, b: T) => b.count - a.count;
  return {
    mismatched: s.mismatched,
    statusOnly: s.statusOnly,
    paths: [...s.paths]
      .sort((a, b) => byCount(a, b) || (a.path < b.path ? -1 : 1))
      .slice(0, limit)
      .map((p) => ({ ...p, share: s.mismatched === 0 ? 0 : round(p.count / s.mismatched) })),
    distinctPaths: s.paths.length,
    untrackedPaths: s.untrackedPaths,
    statuses: [...s.statuses].sort(byCount),
  };
}
