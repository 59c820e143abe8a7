import { readTracingConfig } from '@pilot/telemetry';
import { describe, expect, it } from 'vitest';
import {
  type ComposeFile,
  checkTracing,
  environmentOf,
  filledEnv,
  loadCompose,
  provisionedDatasources,
  TRACED_SERVICES,
} from '../src/index.ts';

const dotEnv = filledEnv();
const { resolved } = loadCompose(undefined, dotEnv);
const mutate = (change: (c: ComposeFile) => void): ComposeFile => {
  const copy = structuredClone(resolved);
  change(copy);
  return copy;
};

describe('docker-compose.yml tracing (observability profile)', () => {
  it('services → OpenTelemetry Collector → Jaeger, a Grafana datasource, exemplars linked', () => {
    expect(checkTracing(resolved)).toEqual([]);
    for (const name of ['otel-collector', 'jaeger']) {
      expect(resolved.services[name]!.profiles).toEqual(['observability']);
    }
    const sources = provisionedDatasources(resolved.services.grafana!);
    expect(sources.map((s) => s.type).sort()).toEqual(['jaeger', 'prometheus']);
  });

  it('finds a broken hop (the checks are really on)', () => {
    const broken = mutate((c) => {
      c.services.prometheus!.command = ['--config.file=/etc/prometheus/prometheus.yml'];
      delete (c.services.gateway!.environment as Record<string, unknown>).OTEL_EXPORTER_OTLP_ENDPOINT;
      c.services['otel-collector']!.command = ['--config=/etc/otelcol-contrib/missing.yaml'];
    });
    expect(checkTracing(broken)).toEqual([
      expect.stringMatching(/^otel-collector: its --config is not a mounted repo file/),
      'prometheus: exemplar storage is not enabled',
      'gateway: OTEL_EXPORTER_OTLP_ENDPOINT is not passed on',
    ]);
    const noStore = mutate((c) => delete c.services.jaeger);
    expect(checkTracing(noStore)).toEqual(
      expect.arrayContaining([
        'observability profile has no trace store (jaegertracing/jaeger)',
        expect.stringMatching(/^otel-collector: exporter otlp\/jaeger sends to jaeger:4317, not a service/),
      ]),
    );
  });

  it('leaves tracing off by default, in a configuration the services accept', () => {
    for (const name of TRACED_SERVICES) {
      const config = readTracingConfig(environmentOf(resolved.services[name]!), { service: name });
      expect(config.enabled, name).toBe(false);
    }
  });

  it('turns it on with the one documented variable, pointing at the collector', () => {
    const on = loadCompose(undefined, {
      ...dotEnv,
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://otel-collector:4318',
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.01',
    }).resolved;
    for (const name of TRACED_SERVICES) {
      const config = readTracingConfig(environmentOf(on.services[name]!), { service: name });
      expect(config, name).toMatchObject({ enabled: true, sampler: 'parentbased_traceidratio', ratio: 0.01 });
      const endpoint = new URL(config.endpoint!);
      expect(on.services[endpoint.hostname]?.expose?.map(String)).toContain(endpoint.port);
    }
  });
});
