import { describe, expect, it } from 'vitest';
import { readTracingConfig, TelemetryConfigError, tracingRequested } from '../src/index.ts';

const read = (env: Record<string, string | undefined>) => readTracingConfig(env, { service: 'modern' });

describe('tracing configuration', () => {
  it('is off when nothing asks for it', () => {
    const config = read({});
    expect(config.enabled).toBe(false);
    expect(config.serviceName).toBe('modern');
    expect(config.sampler).toBe('parentbased_always_on');
    expect(config.incoming).toBe('trust');
  });

  it('is on with an OTLP endpoint (either variable) or TRACING=on', () => {
    expect(read({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }).enabled).toBe(true);
    expect(read({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/v1/traces' }).enabled).toBe(true);
    expect(read({ TRACING: 'on' }).enabled).toBe(true);
    expect(read({ TRACING: 'ON ' }).enabled).toBe(true);
  });

  it('TRACING=off, OTEL_SDK_DISABLED=true and OTEL_TRACES_EXPORTER=none win over an endpoint', () => {
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' };
    expect(read({ ...endpoint, TRACING: 'off' }).enabled).toBe(false);
    expect(read({ ...endpoint, OTEL_SDK_DISABLED: 'true' }).enabled).toBe(false);
    expect(read({ ...endpoint, OTEL_TRACES_EXPORTER: 'none' }).enabled).toBe(false);
    expect(tracingRequested({ ...endpoint, TRACING: '0' })).toBe(false);
  });

  it('reads the standard sampler variables and our TRACING_INCOMING', () => {
    const config = read({
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.01',
      TRACING_INCOMING: 'restart',
      OTEL_SERVICE_NAME: 'modern-eu',
      OTEL_BSP_SCHEDULE_DELAY: '1000',
    });
    expect(config).toMatchObject({
      sampler: 'parentbased_traceidratio',
      ratio: 0.01,
      incoming: 'restart',
      serviceName: 'modern-eu',
      batch: { scheduledDelayMillis: 1000, maxQueueSize: 2048, maxExportBatchSize: 512 },
    });
    expect(readTracingConfig({}, { service: 'gateway', incoming: 'continue' }).incoming).toBe('continue');
  });

  it('refuses bad values, naming every bad variable in one message', () => {
    let error: unknown;
    try {
      read({
        TRACING: 'maybe',
        OTEL_TRACES_SAMPLER: 'sometimes',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318',
        TRACING_INCOMING: 'always',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TelemetryConfigError);
    const message = (error as Error).message;
    for (const name of [
      'TRACING',
      'OTEL_TRACES_SAMPLER',
      'OTEL_EXPORTER_OTLP_ENDPOINT',
      'TRACING_INCOMING',
      'OTEL_EXPORTER_OTLP_PROTOCOL',
    ]) {
      expect(message).toContain(name);
    }
  });

  it('refuses a sampler argument for a sampler without a ratio, and a ratio outside 0..1', () => {
    expect(() => read({ OTEL_TRACES_SAMPLER: 'always_on', OTEL_TRACES_SAMPLER_ARG: '0.5' })).toThrow(
      /OTEL_TRACES_SAMPLER_ARG/,
    );
    expect(() => read({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '2' })).toThrow(
      /OTEL_TRACES_SAMPLER_ARG/,
    );
  });
});
