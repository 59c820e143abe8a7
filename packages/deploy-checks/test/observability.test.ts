import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  BUILTIN_SERIES,
  baseMetricName,
  type Dashboard,
  dashboardExpressions,
  definedMetrics,
  filledEnv,
  loadCompose,
  metricsInExpr,
  readRepoFile,
  type ScrapeJob,
} from '../src/index.ts';

interface GrafanaPanel {
  title: string;
  type: string;
  datasource?: { uid?: string };
  targets?: Array<{ expr: string }>;
}
const dashboard = JSON.parse(
  readRepoFile('observability/grafana/dashboards/migration-pilot.json'),
) as Dashboard;
const panels = (dashboard.panels ?? []) as GrafanaPanel[];
const defined = definedMetrics();

describe('Grafana dashboard', () => {
  const exprs = dashboardExpressions(dashboard);
  const allExpr = exprs.map((e) => e.expr).join('\n');

  it('has the panels operators need', () => {
    const titles = panels.map((p) => p.title);
    expect(titles).toEqual(
      expect.arrayContaining([
        'Requests per route (gateway)',
        'p99 latency by backend (gateway)',
        'Shadow mismatches',
        'Cache hit ratio',
        'Strapi breaker state (per instance)',
        'Gateway breaker state (per backend)',
      ]),
    );
    expect(allExpr).toMatch(/histogram_quantile\(0\.99, sum by \(le, backend\)/);
    expect(allExpr).toMatch(/cache_events_total\{kind=~"hit\|stale"\}/);
  });

  it('reads only metrics the code defines (prom-client names in the services and packages)', () => {
    const unknown: string[] = [];
    for (const { where, expr } of exprs) {
      for (const name of metricsInExpr(expr)) {
        if (!BUILTIN_SERIES.has(name) && !baseMetricName(name, defined)) unknown.push(`${where}: ${name}`);
      }
    }
    expect(unknown).toEqual([]);
  });

  it('uses the provisioned Prometheus datasource everywhere', () => {
    const datasource = parse(
      readRepoFile('observability/grafana/provisioning/datasources/prometheus.yml'),
    ) as {
      datasources: Array<{ uid: string; url: string }>;
    };
    const uid = datasource.datasources[0]!.uid;
    expect(datasource.datasources[0]!.url).toBe('http://prometheus:9090');
    for (const panel of panels.filter((p) => p.type !== 'row'))
      expect(panel.datasource?.uid, panel.title).toBe(uid);
  });

  it('is loaded from where docker-compose.yml mounts it', () => {
    const provider = parse(
      readRepoFile('observability/grafana/provisioning/dashboards/migration-pilot.yml'),
    ) as {
      providers: Array<{ options: { path: string } }>;
    };
    const grafana = loadCompose(undefined, filledEnv()).resolved.services.grafana!;
    const mount = (grafana.volumes ?? []).find(
      (v) => typeof v === 'string' && v.startsWith('./observability/grafana/dashboards:'),
    );
    expect(String(mount).split(':')[1]).toBe(provider.providers[0]!.options.path);
    expect(dashboard.uid).toBe('migration-pilot');
  });
});

describe('PromQL metric extraction', () => {
  it('finds selectors and skips labels, functions, ranges, grouping and variables', () => {
    expect(
      metricsInExpr(
        'histogram_quantile(0.99, sum by (le, backend) (rate(gateway_request_duration_seconds_bucket{route=~"$route"}[$__rate_interval])))',
      ),
    ).toEqual(['gateway_request_duration_seconds_bucket']);
    expect(
      metricsInExpr(
        'sum(rate(a_total{kind="hit"}[5m])) / clamp_min(sum(rate(b_total[5m])), 1e-9) and on (job) up == 1',
      ),
    ).toEqual(['a_total', 'b_total', 'up']);
  });

  it('maps histogram series back to their metric and rejects unknown ones', () => {
    const defs = [
      { name: 'lat_seconds', type: 'histogram' as const, file: 'x' },
      { name: 'hits_total', type: 'counter' as const, file: 'y' },
    ];
    expect(baseMetricName('lat_seconds_bucket', defs)?.name).toBe('lat_seconds');
    expect(baseMetricName('hits_total_bucket', defs)).toBeUndefined();
    expect(baseMetricName('nope_total', defs)).toBeUndefined();
  });

  it('finds the metrics the services define', () => {
    const names = defined.map((d) => d.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'http_requests_total',
        'http_request_duration_seconds',
        'gateway_requests_total',
      ]),
    );
  });
});

describe('prometheus.yml', () => {
  const config = parse(readRepoFile('observability/prometheus/prometheus.yml')) as {
    global: { scrape_interval: string };
    scrape_configs: ScrapeJob[];
  };

  it('discovers every replica through DNS (one target per container)', () => {
    for (const job of ['legacy', 'modern', 'gateway']) {
      const sd = config.scrape_configs.find((j) => j.job_name === job)?.dns_sd_configs?.[0];
      expect(sd?.type, job).toBe('A');
      expect(sd?.names, job).toEqual([job]);
    }
  });

  it('has unique job names', () => {
    const names = config.scrape_configs.map((j) => j.job_name);
    expect(new Set(names).size).toBe(names.length);
  });
});
