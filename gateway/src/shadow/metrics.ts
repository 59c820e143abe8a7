import type { Registry } from 'prom-client';
import type { ShadowManager } from './mirror.ts';
import { DROP_REASONS, NOT_COMPARED_REASONS, type RouteShadowSnapshot, wilson } from './stats.ts';

/**
 * The shadow's Prometheus metrics, read from the manager's counts when /metrics is scraped (the
 * request path increments plain numbers only):
 *
 * - `gateway_shadow_requests_total{route,result}`: match | mismatch | not_compared |
 *   dropped_concurrency | dropped_body (every mirrored request ends in one of them once done);
 * - `gateway_shadow_compared_total{route}`, `gateway_shadow_mismatches_total{route}`: the
 *   rate's numerator and denominator;
 * - `gateway_shadow_not_compared_total{route,reason}`: see stats.ts for the reasons;
 * - `gateway_shadow_mismatch_ratio{route,bound}`: estimate, and the lower and upper bound of its
 *   95% Wilson interval (absent until something was compared);
 * - `gateway_shadow_noise_paths{route}` (learned paths in force), `gateway_shadow_noise_pairs_total{route}`.
 *
 * With node:cluster workers the counters are summed by prom-client's aggregator; a ratio cannot
 * be, so the workers omit it and the admin server appends the merged one (clusterRatioText).
 */
interface Value {
  value: number;
  labels: Record<string, string>;
}

type Aggregator = 'sum' | 'max' | 'omit';

function computed(
  name: string,
  help: string,
  type: 'counter' | 'gauge',
  aggregator: Aggregator,
  values: () => Value[],
) {
  return {
    name,
    help,
    type,
    aggregator,
    get: async () => ({ name, help, type, aggregator, values: values() }),
    reset: () => {},
  };
}

export function registerShadowMetrics(registry: Registry, shadows: ShadowManager, cluster: boolean): void {
  const each = (fn: (route: string, s: RouteShadowSnapshot) => Value[]) => () =>
    Object.entries(shadows.snapshot()).flatMap(([route, s]) => fn(route, s));
  const add = (m: ReturnType<typeof computed>) => registry.registerMetric(m as never);

  add(
    computed(
      'gateway_shadow_requests_total',
      'Mirrored requests by outcome: match, mismatch, not_compared, dropped_concurrency, dropped_body',
      'counter',
      'sum',
      each((route, s) => [
        { value: s.matched, labels: { route, result: 'match' } },
        { value: s.mismatched, labels: { route, result: 'mismatch' } },
        {
          value: NOT_COMPARED_REASONS.reduce((n, r) => n + s.notCompared[r], 0),
          labels: { route, result: 'not_compared' },
        },
        ...DROP_REASONS.map((r) => ({
          value: s.dropped[r],
          labels: { route, result: r === 'body' ? 'dropped_body' : 'dropped_concurrency' },
        })),
      ]),
    ),
  );
  add(
    computed(
      'gateway_shadow_compared_total',
      'Mirrored requests whose two answers were compared (the denominator of the mismatch ratio)',
      'counter',
      'sum',
      each((route, s) => [{ value: s.matched + s.mismatched, labels: { route } }]),
    ),
  );
  add(
    computed(
      'gateway_shadow_mismatches_total',
      'Compared pairs whose answers differed (outside ignored paths and learned noise)',
      'counter',
      'sum',
      each((route, s) => [{ value: s.mismatched, labels: { route } }]),
    ),
  );
  add(
    computed(
      'gateway_shadow_not_compared_total',
      'Mirrored requests not compared, by reason: too_large, not_json, streaming, shadow_error, shadow_timeout, primary_error, learning_noise',
      'counter',
      'sum',
      each((route, s) =>
        NOT_COMPARED_REASONS.map((reason) => ({ value: s.notCompared[reason], labels: { route, reason } })),
      ),
    ),
  );
  add(
    computed(
      'gateway_shadow_mismatch_ratio',
      'Mismatched / compared per route (bound="estimate"), with the 95% Wilson interval (bound="lower"/"upper")',
      'gauge',
      cluster ? 'omit' : 'max',
      each((route, s) => ratioValues(route, s)),
    ),
  );
  add(
    computed(
      'gateway_shadow_noise_paths',
      'JSON paths currently treated as noise (learned and not rejected, or pinned)',
      'gauge',
      'max',
      () =>
        shadows.routeIds().map((route) => ({ value: shadows.noise(route).activeCount(), labels: { route } })),
    ),
  );
  add(
    computed(
      'gateway_shadow_noise_pairs_total',
      'Pairs of served answers compared to learn noise',
      'counter',
      'sum',
      () => shadows.routeIds().map((route) => ({ value: shadows.noise(route).pairs, labels: { route } })),
    ),
  );
}

function ratioValues(route: string, s: RouteShadowSnapshot): Value[] {
  const w = wilson(s.mismatched, s.matched + s.mismatched);
  if (w.rate === null) return [];
  return [
    { value: w.rate, labels: { route, bound: 'estimate' } },
    { value: w.lower!, labels: { route, bound: 'lower' } },
    { value: w.upper!, labels: { route, bound: 'upper' } },
  ];
}

const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

/** The ratio gauge from cluster-merged numbers, in Prometheus text format. */
export function clusterRatioText(merged: Record<string, RouteShadowSnapshot>): string {
  const lines = [
    '# HELP gateway_shadow_mismatch_ratio Mismatched / compared per route (bound="estimate"), with the 95% Wilson interval (bound="lower"/"upper")',
    '# TYPE gateway_shadow_mismatch_ratio gauge',
  ];
  for (const [route, s] of Object.entries(merged)) {
    for (const v of ratioValues(route, s)) {
      lines.push(
        `gateway_shadow_mismatch_ratio{route="${escapeLabel(route)}",bound="${v.labels.bound}"} ${v.value}`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}
