import type { Difference } from './diff.ts';

/**
 * The most recent mismatch samples, the newest N per route. Each route's samples live in a ring
 * buffer: adding one over the limit overwrites the oldest, and reading never reorders the ring
 * (a listing sorts a copy), so what is kept is always the newest N whatever was read in between.
 */
export interface SampleSide {
  backend: string;
  status: number | null;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  truncated: boolean;
  error?: string;
}

export interface ShadowSample {
  id: string;
  route: string;
  at: string;
  method: string;
  path: string;
  requestId: string;
  primary: SampleSide;
  shadow: SampleSide;
  differences: Difference[];
}

export type ShadowSampleSummary = Omit<ShadowSample, 'primary' | 'shadow'> & {
  primary: { backend: string; status: number | null };
  shadow: { backend: string; status: number | null };
};

class Ring {
  readonly items: ShadowSample[] = [];
  /** Index of the oldest item once the ring is full. */
  private head = 0;

  add(sample: ShadowSample, max: number): void {
    if (this.items.length > max || (this.head !== 0 && this.items.length < max)) {
      // the limit changed (table reload): back to oldest-first order, keeping the newest `max`
      const newest = this.newestFirst().slice(0, max).reverse();
      this.items.length = 0;
      this.items.push(...newest);
      this.head = 0;
    }
    if (this.items.length < max) {
      this.items.push(sample);
      return;
    }
    this.items[this.head] = sample;
    this.head = (this.head + 1) % max;
  }

  /** A new array, newest first. */
  newestFirst(): ShadowSample[] {
    const n = this.items.length;
    const out = new Array<ShadowSample>(n);
    // the newest item sits just before head (or at the end while the ring is filling)
    for (let i = 0; i < n; i++) out[i] = this.items[(this.head - 1 - i + 2 * n) % n]!;
    return out;
  }
}

export function summarize(s: ShadowSample): ShadowSampleSummary {
  return {
    ...s,
    primary: { backend: s.primary.backend, status: s.primary.status },
    shadow: { backend: s.shadow.backend, status: s.shadow.status },
  };
}

export class SampleStore {
  private readonly byRoute = new Map<string, Ring>();
  private readonly max: () => number;

  constructor(max: () => number) {
    this.max = max;
  }

  add(sample: ShadowSample): void {
    const max = this.max();
    if (max <= 0) return;
    let ring = this.byRoute.get(sample.route);
    if (!ring) {
      ring = new Ring();
      this.byRoute.set(sample.route, ring);
    }
    ring.add(sample, max);
  }

  /** Full samples, newest first (one route, or every route merged by time). */
  all(route?: string): ShadowSample[] {
    if (route) return this.byRoute.get(route)?.newestFirst() ?? [];
    const merged = [...this.byRoute.values()].flatMap((r) => r.newestFirst());
    return merged.sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));
  }

  list(route?: string, limit = 50): ShadowSampleSummary[] {
    return this.all(route).slice(0, limit).map(summarize);
  }

  get(id: string): ShadowSample | undefined {
    for (const ring of this.byRoute.values()) {
      const found = ring.items.find((s) => s.id === id);
      if (found) return found;
    }
    return undefined;
  }

  clear(route?: string): void {
    if (route) this.byRoute.delete(route);
    else this.byRoute.clear();
  }
}
