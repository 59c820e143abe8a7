import { hash } from '../config/load.ts';
import type { RouteConfig, TableConfig } from '../config/schema.ts';
import {
  type BackendSpec,
  BUCKETS,
  type CompiledRoute,
  type Overrides,
  type PathTest,
  type RouteOverride,
  type StickySource,
  type Table,
  type WeightSlot,
} from '../table.ts';

/**
 * Builds the immutable table snapshot the request path reads (see table.ts) from a validated
 * file and the overrides in force: path patterns compiled to string compares, weights to
 * bucket ranges, shadow ignore patterns to regular expressions. Runs once per load or change,
 * never per request.
 *
 * Pattern forms: `/exact`, `/dir/*` (the path itself and everything below it), `/prefix*` (raw
 * string prefix, so `/articles*` also takes `/articles-archive`). Matching is on the normalised,
 * lower-cased path, so the gateway matches case-insensitively, as an Express backend would.
 */
export function compilePattern(pattern: string): PathTest {
  const p = pattern.toLowerCase();
  if (p === '/*' || p === '*' || p === '/**') return () => true;
  if (p.endsWith('/*')) {
    const base = p.slice(0, -2);
    const dir = `${base}/`;
    return (path) => path === base || path.startsWith(dir);
  }
  if (p.endsWith('*')) {
    const prefix = p.slice(0, -1);
    return (path) => path.startsWith(prefix);
  }
  return (path) => path === p || path === `${p}/`;
}

export function compilePatterns(patterns: readonly string[]): PathTest {
  const tests = patterns.map(compilePattern);
  if (tests.length === 1) return tests[0]!;
  return (path) => {
    for (const t of tests) if (t(path)) return true;
    return false;
  };
}

/** `null` means every method; GET implies HEAD. */
export function compileMethods(methods: readonly string[] | undefined): ReadonlySet<string> | null {
  if (!methods) return null;
  const set = new Set(methods);
  if (set.has('GET')) set.add('HEAD');
  return set;
}

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
