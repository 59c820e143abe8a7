import type {
  BackendConfig,
  BreakerConfig,
  RouteConfig,
  ShadowConfig,
  TableConfig,
} from './config/schema.ts';

/**
 * The route table as the request path reads it: one immutable snapshot, built by the control
 * plane (control/compile.ts) from the file and the overrides in force, and replaced whole on
 * every reload or admin change. A request reads the snapshot that was active when it arrived
 * and keeps it to the end; nothing here changes after it is built.
 */

/** What an admin action changed on top of the file: kept in Redis and/or written back to the file. */
export interface RouteOverride {
  weights?: Record<string, number>;
  shadowPaused?: boolean;
  /** The backend to fall back to (a promotion keeps the old backend as fallback). */
  fallback?: string;
  by: string;
  at: string;
}
export type Overrides = Record<string, RouteOverride>;

export type StickySource = { kind: 'header' | 'cookie'; name: string } | { kind: 'jwt' };

/** A compiled path pattern: takes the normalised, lower-cased path. */
export type PathTest = (lowerPath: string) => boolean;

export interface WeightSlot {
  backend: string;
  /** Upper bound (exclusive) of this backend's bucket range in 0..9999. */
  until: number;
}

/** Sticky keys hash into this many buckets; a backend's weight is its share of them. */
export const BUCKETS = 10_000;

export interface CompiledRoute {
  id: string;
  index: number;
  paths: string[];
  test: PathTest;
  methods: ReadonlySet<string> | null;
  /** Effective weights (file, then override), percent per backend, in the file's order. */
  weights: Record<string, number>;
  /** Non-zero weights as bucket ranges; one slot means "backend" mode. */
  slots: WeightSlot[];
  sticky: StickySource[] | null;
  stickyCookie: string | null;
  shadow: (ShadowConfig & { ignoreTests: RegExp[] }) | null;
  fallback: string | null;
  migration: { from: string; to: string } | null;
  maxBodyBytes: number;
  /** Long-lived responses: own connection budget, no stall detection, no fallback once started. */
  stream: boolean;
  /** Response head deadline override; undefined → the backend's. */
  timeoutMs: number | undefined;
  /** Idle timeout override once the response started; undefined → the backend's. */
  idleTimeoutMs: number | undefined;
  /** settings.breaker with the route's own fields over it. */
  breaker: BreakerConfig;
  override: RouteOverride | null;
  config: RouteConfig;
}

export interface BackendSpec {
  name: string;
  url: URL;
  config: BackendConfig;
}

export interface Table {
  /** Hash of the effective table (file + overrides): the same on every instance that agrees. */
  version: string;
  /** Hash of the file's bytes. */
  fileVersion: string;
  label: string | number | undefined;
  loadedAt: string;
  config: TableConfig;
  settings: TableConfig['settings'];
  backends: Map<string, BackendSpec>;
  routes: CompiledRoute[];
  overrides: Overrides;
}
