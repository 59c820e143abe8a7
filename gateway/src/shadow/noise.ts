import { type Difference, generalizePath } from './diff.ts';

/**
 * Learned noise (Diffy's idea without a second deployment): for a sampled fraction of a route's
 * safe requests the served backend is asked twice, and every JSON path that differs between its
 * two answers to the same request is noise (a timestamp, a request id, a random order). Those
 * paths are then left out when the shadow's answer is held against the served one.
 *
 * - Paths are generalised over list positions (`data.*.id`), so one pair teaches a field of every
 *   element. A learned path hides exactly that path, never what lies below or beside it.
 * - Only what differed between two served answers is learned: a path that differs between the
 *   served and the shadow answer but never between two served answers is never hidden.
 * - `$status` is never learned: a backend that answers the same request with two statuses is
 *   flaky, and hiding status mismatches would hide the failures that matter most.
 * - Operators can pin a path (always noise, learned or not) or reject it (never noise, however
 *   often it was learned); forgetting a path drops what was learned and any pin or rejection.
 * - Bounded: at most MAX_PATHS paths per route; later new paths are counted, not kept.
 */
export type NoiseState = 'learned' | 'pinned' | 'rejected';

export interface NoisePath {
  path: string;
  /** Pairs of served answers that differed here. */
  pairs: number;
  state: NoiseState;
  firstAt: string | null;
  lastAt: string | null;
  /** One pair that taught it: the two served values (previews). */
  example: { first: unknown; second: unknown } | null;
}

export interface NoiseSnapshot {
  /** Pairs of served answers compared so far (taught something or not). */
  pairs: number;
  /** New paths seen after the table was full. */
  untracked: number;
  paths: NoisePath[];
}

const MAX_PATHS = 500;
const PREVIEW_CHARS = 200;

export function preview(value: unknown): unknown {
  if (value === undefined || value === null || typeof value !== 'object') {
    return typeof value === 'string' && value.length > PREVIEW_CHARS
      ? `${value.slice(0, PREVIEW_CHARS)}…`
      : value;
  }
  const text = JSON.stringify(value);
  return text.length > PREVIEW_CHARS ? `${text.slice(0, PREVIEW_CHARS)}…` : value;
}

export class NoiseModel {
  pairs = 0;
  untracked = 0;
  private readonly paths = new Map<string, NoisePath>();

  /** Records one pair of served answers to the same request (their differences). */
  learn(differences: readonly Difference[], at = new Date().toISOString()): void {
    this.pairs++;
    const seen = new Set<string>();
    for (const d of differences) {
      if (d.path === '$status') continue;
      const path = generalizePath(d.path);
      if (seen.has(path)) continue;
      seen.add(path);
      let entry = this.paths.get(path);
      if (!entry) {
        if (this.paths.size >= MAX_PATHS) {
          this.untracked++;
          continue;
        }
        entry = { path, pairs: 0, state: 'learned', firstAt: at, lastAt: at, example: null };
        this.paths.set(path, entry);
      }
      entry.pairs++;
      entry.firstAt ??= at;
      entry.lastAt = at;
      entry.example ??= { first: preview(d.primary), second: preview(d.shadow) };
    }
  }

  /** Whether a generalised path is noise now. */
  isNoise(path: string): boolean {
    const entry = this.paths.get(path);
    if (!entry) return false;
    return entry.state === 'pinned' || (entry.state === 'learned' && entry.pairs > 0);
  }

  /** Noise paths in force (learned and not rejected, or pinned). */
  activeCount(): number {
    let n = 0;
    for (const p of this.paths.keys()) if (this.isNoise(p)) n++;
    return n;
  }

  set(path: string, state: NoiseState): NoisePath {
    const key = generalizePath(path.replace(/^\$\./, ''));
    let entry = this.paths.get(key);
    if (!entry) {
      entry = { path: key, pairs: 0, state, firstAt: null, lastAt: null, example: null };
      this.paths.set(key, entry);
    }
    entry.state = state;
    return entry;
  }

  /** Drops what was learned about a path, and its pin or rejection. */
  forget(path: string): boolean {
    return this.paths.delete(generalizePath(path.replace(/^\$\./, '')));
  }

  snapshot(): NoiseSnapshot {
    return {
      pairs: this.pairs,
      untracked: this.untracked,
      paths: [...this.paths.values()].map((p) => ({ ...p })),
    };
  }
}

/** Several processes' models as one view (cluster workers learn separately). */
export function mergeNoise(parts: readonly NoiseSnapshot[]): NoiseSnapshot {
  const paths = new Map<string, NoisePath>();
  let pairs = 0;
  let untracked = 0;
  for (const part of parts) {
    pairs += part.pairs;
    untracked += part.untracked;
    for (const p of part.paths) {
      const acc = paths.get(p.path);
      if (!acc) {
        paths.set(p.path, { ...p });
        continue;
      }
      acc.pairs += p.pairs;
      // an operator's decision reaches every worker; a worker that has not heard yet says "learned"
      if (p.state !== 'learned') acc.state = p.state;
      if (p.firstAt && (!acc.firstAt || p.firstAt < acc.firstAt)) acc.firstAt = p.firstAt;
      if (p.lastAt && (!acc.lastAt || p.lastAt > acc.lastAt)) acc.lastAt = p.lastAt;
      acc.example ??= p.example;
    }
  }
  const sorted = [...paths.values()].sort((a, b) => b.pairs - a.pairs || (a.path < b.path ? -1 : 1));
  return { pairs, untracked, paths: sorted };
}
