import { createHash } from 'node:crypto';
import type {
  BackendConfig,
  BreakerConfig,
  RouteConfig,
  ShadowConfig,
  TableConfig,
} from './config/schema.ts';
import { compileMethods, compilePatterns, type PathTest } from './match.ts';

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

export interface WeightSlot {
  backend: string;
  /** Upper bound (exclusive) of this backend's bucket range in 0..9999. */
  until: number;
}

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

export const BUCKETS = 10_000;

export function slotsFor(weights: Record<string, number>): WeightSlot[] {
  const slots: WeightSlot[] = [];
  let acc = 0;
  for (const [backend, weight] of Object.entries(weights)) {
    if (weight <= 0) continue;
    acc += weight * (BUCKETS / 100);
    slots.push({ backend, until: acc });
  }
  if (slots.length > 0) slots[slots.length - 1]!.until = BUCKETS;
  return slots;
}

function parseSticky(sources: string[] | undefined): StickySource[] | null {
  if (!sources || sources.length === 0) return null;
  return sources.map((s) => {
    if (s === 'jwt:sub') return { kind: 'jwt' } as const;
    const [kind, ...rest] = s.split(':');
    const n = rest.join(':');
    return kind === 'header' ? { kind: 'header', name: n.toLowerCase() } : { kind: 'cookie', name: n };
  });
}

/** `meta.generatedAt`, `data.*.updatedAt`, `**.requestId` → a regex over dotted diff paths. */
export function compileIgnore(pattern: string): RegExp {
  const parts = pattern.replace(/^\$\.?/, '').split('.');
  let src = '^';
  parts.forEach((part, i) => {
    const last = i === parts.length - 1;
    if (part === '**') src += last ? '.*' : '(?:[^.]+\\.)*';
    else {
      src += part === '*' ? '[^.]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      if (!last) src += '\\.';
    }
  });
  return new RegExp(`${src}$`);
}

function migrationFor(route: RouteConfig): { from: string; to: string } | null {
  if (route.migration) return route.migration;
  if (route.shadow && route.backend) return { from: route.backend, to: route.shadow.backend };
  if (route.split) {
    const names = Object.keys(route.split);
    if (names.length === 2) return { from: names[0]!, to: names[1]! };
  }
  if (route.backend && route.fallback) return { from: route.fallback, to: route.backend };
  return null;
}

export function compileRoute(
  route: RouteConfig,
  index: number,
  settings: TableConfig['settings'],
  override: RouteOverride | null,
): CompiledRoute {
  const paths = Array.isArray(route.path) ? route.path : [route.path];
  const fileWeights: Record<string, number> = route.split ? { ...route.split } : { [route.backend!]: 100 };
  const weights = override?.weights ? { ...override.weights } : fileWeights;
  const shadow = route.shadow
    ? {
        ...route.shadow,
        paused: override?.shadowPaused ?? route.shadow.paused,
        ignoreTests: route.shadow.ignore.map(compileIgnore),
      }
    : null;
  return {
    id: route.id,
    index,
    paths,
    test: compilePatterns(paths),
    methods: compileMethods(route.methods),
    weights,
    slots: slotsFor(weights),
    sticky: parseSticky(route.sticky),
    stickyCookie: route.stickyCookie ?? null,
    shadow,
    fallback: override?.fallback ?? route.fallback ?? null,
    migration: migrationFor(route),
    maxBodyBytes: route.maxBodyBytes ?? settings.maxBodyBytes,
    stream: route.stream,
    timeoutMs: route.timeoutMs,
    idleTimeoutMs: route.idleTimeoutMs,
    breaker: { ...settings.breaker, ...route.breaker },
    override,
    config: route,
  };
}

export function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 12);
}

/** Builds the effective table from a validated file config and the overrides in force. */
export function buildTable(
  config: TableConfig,
  fileVersion: string,
  backends: Map<string, BackendSpec>,
  overrides: Overrides,
): Table {
  const applied: Overrides = {};
  const routes = config.routes.map((route, i) => {
    const o = overrides[route.id];
    const usable =
      o &&
      (!o.weights || Object.keys(o.weights).every((b) => backends.has(b))) &&
      (!o.fallback || backends.has(o.fallback))
        ? o
        : null;
    if (usable) applied[route.id] = usable;
    return compileRoute(route, i, config.settings, usable);
  });
  const effective = JSON.stringify(
    Object.fromEntries(
      Object.entries(applied).map(([id, o]) => [id, { w: o.weights, p: o.shadowPaused, f: o.fallback }]),
    ),
  );
  return {
    version: hash(`${fileVersion}\n${effective}`),
    fileVersion,
    label: config.version,
    loadedAt: new Date().toISOString(),
    config,
    settings: config.settings,
    backends,
    routes,
    overrides: applied,
  };
}
