import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { listFiles, REPO_ROOT } from './repo.ts';

export interface MetricDefinition {
  name: string;
  type: 'counter' | 'gauge' | 'histogram' | 'summary';
  file: string;
}

const CONSTRUCTOR_TYPES: Record<string, MetricDefinition['type']> = {
  Counter: 'counter',
  Gauge: 'gauge',
  Histogram: 'histogram',
  Summary: 'summary',
  // @pilot/service-kit's histogram that prom-client's registry reads through get()
  LatencyHistogram: 'histogram',
};

/**
 * Prometheus metrics the code defines, found statically in the source of the services and
 * shared packages (tests excluded):
 * - prom-client constructors: `new Counter|Gauge|Histogram|Summary({ name: '…' })`, and
 *   service-kit's `new LatencyHistogram({ name: '…' })`;
 * - custom collectors registered with `registry.registerMetric(...)` through a helper called
 *   as `helper('name' | NAME_CONST, 'help', 'counter' | 'gauge' | 'histogram' | 'summary', …)`
 *   (the gateway formats its hot-path numbers that way); a constant is resolved from
 *   `const NAME_CONST = '…'` in the same file.
 */
export function definedMetrics(root = REPO_ROOT): MetricDefinition[] {
  const out: MetricDefinition[] = [];
  const dirs = ['apps', 'packages', 'gateway'];
  for (const dir of dirs) {
    const files = listFiles(dir, (name) => name.endsWith('.ts') && !name.endsWith('.test.ts'), root).filter(
      (f) => f.split('/').includes('src') && !f.startsWith('packages/deploy-checks/'),
    );
    for (const file of files) {
      const text = readFileSync(join(root, file), 'utf8');
      for (const m of text.matchAll(
        /new (Counter|Gauge|Histogram|Summary|LatencyHistogram)(?:<[^>]*>)?\(\s*\{[^}]*?name:\s*['"`]([a-zA-Z_:][a-zA-Z0-9_:]*)['"`]/g,
      )) {
        out.push({ name: m[2]!, type: CONSTRUCTOR_TYPES[m[1]!]!, file });
      }
      const constants = new Map<string, string>();
      for (const m of text.matchAll(/const ([A-Za-z_]\w*)\s*=\s*['"`]([a-zA-Z_:][a-zA-Z0-9_:]*)['"`]/g)) {
        constants.set(m[1]!, m[2]!);
      }
      for (const m of text.matchAll(
        /\w+\(\s*(?:['"`]([a-zA-Z_:][a-zA-Z0-9_:]*)['"`]|([A-Za-z_]\w*))\s*,\s*(?:'[^']*'|"[^"]*"|`[^`]*`)\s*,\s*['"](counter|gauge|histogram|summary)['"]/g,
      )) {
        const name = m[1] ?? constants.get(m[2]!);
        if (name) out.push({ name, type: m[3] as MetricDefinition['type'], file });
      }
    }
  }
  return out;
}

const PROMQL_WORDS = new Set([
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'inf',
  'nan',
]);

/**
 * Metric names a PromQL expression reads. Label matchers `{...}`, ranges `[...]`, grouping
 * clauses `by (...)`, strings, numbers and function names are removed; what is left are
 * metric selectors. Grafana variables (`$__rate_interval`, `$route`) are ignored.
 */
export function metricsInExpr(expr: string): string[] {
  let text = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, ' ')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\$\w+/g, ' ');
  text = text.replace(/\b[a-zA-Z_][a-zA-Z0-9_]*\s*\(/g, ' ('); // function calls
  const names = new Set<string>();
  for (const m of text.matchAll(/\b[a-zA-Z_:][a-zA-Z0-9_:]*\b/g)) {
    const word = m[0];
    if (PROMQL_WORDS.has(word.toLowerCase()) || /^\d/.test(word)) continue;
    if (/^\d+(\.\d+)?(e[+-]?\d+)?$/i.test(word)) continue;
    names.add(word);
  }
  return [...names];
}

/** `foo_bucket` / `foo_sum` / `foo_count` of a histogram `foo`, and `foo` itself. */
export function baseMetricName(name: string, defined: MetricDefinition[]): MetricDefinition | undefined {
  const exact = defined.find((d) => d.name === name);
  if (exact) return exact;
  const m = /^(.*)_(bucket|sum|count)$/.exec(name);
  if (!m) return undefined;
  const base = defined.find((d) => d.name === m[1]);
  if (!base) return undefined;
  if (m[2] === 'bucket' && base.type !== 'histogram') return undefined;
  if (base.type !== 'histogram' && base.type !== 'summary') return undefined;
  return base;
}

/** Series every Prometheus target has without the code defining them. */
export const BUILTIN_SERIES = new Set(['up', 'scrape_duration_seconds', 'scrape_samples_scraped']);

interface Panel {
  title?: string;
  type?: string;
  targets?: Array<{ expr?: string }>;
  panels?: Panel[];
}

export interface Dashboard {
  uid?: string;
  title?: string;
  panels?: Panel[];
  templating?: { list?: Array<{ query?: string | { query?: string }; definition?: string }> };
  annotations?: { list?: Array<{ expr?: string }> };
}

/** Every PromQL expression in a Grafana dashboard (panels, rows, variables, annotations). */
export function dashboardExpressions(dashboard: Dashboard): Array<{ where: string; expr: string }> {
  const out: Array<{ where: string; expr: string }> = [];
  const walk = (panels: Panel[] | undefined) => {
    for (const panel of panels ?? []) {
      for (const target of panel.targets ?? [])
        if (target.expr) out.push({ where: `panel "${panel.title}"`, expr: target.expr });
      walk(panel.panels);
    }
  };
  walk(dashboard.panels);
  for (const variable of dashboard.templating?.list ?? []) {
    const query = typeof variable.query === 'string' ? variable.query : variable.query?.query;
    const m = query ? /label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(query) : null;
    if (m) out.push({ where: 'variable', expr: m[1]! });
  }
  for (const annotation of dashboard.annotations?.list ?? []) {
    if (annotation.expr) out.push({ where: 'annotation', expr: annotation.expr });
  }
  return out;
}
