import { z } from 'zod';

/**
 * Tracing configuration, read once at start-up from the standard OpenTelemetry variables plus
 * two of ours. Off unless an OTLP endpoint is configured or TRACING=on; OTEL_SDK_DISABLED=true
 * and TRACING=off win over everything.
 *
 * What the exporter itself reads (OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT, _HEADERS, _TIMEOUT,
 * _COMPRESSION) it reads from the process environment, as every OpenTelemetry SDK does; the
 * endpoint is checked here so a typo fails the start, not the first export.
 */

/** How a service treats a `traceparent` it receives. */
export type IncomingMode = 'trust' | 'continue' | 'restart';

export type SamplerName =
  | 'always_on'
  | 'always_off'
  | 'traceidratio'
  | 'parentbased_always_on'
  | 'parentbased_always_off'
  | 'parentbased_traceidratio';

export interface TracingConfig {
  enabled: boolean;
  /** OTEL_SERVICE_NAME, else the service's own name. */
  serviceName: string;
  sampler: SamplerName;
  /** Fraction kept by the ratio samplers (OTEL_TRACES_SAMPLER_ARG, default 1). */
  ratio: number;
  /**
   * TRACING_INCOMING. `trust`: a caller's traceparent is the parent and its sampled flag is
   * honoured (services behind the gateway). `continue`: the caller's trace id is kept but the
   * sampling decision is ours (the gateway's default: a client cannot force 100 % sampling by
   * setting the flag). `restart`: a new trace, linked to the caller's.
   */
  incoming: IncomingMode;
  /** Where spans go (informational; the exporter reads the environment itself). */
  endpoint: string | undefined;
  /** OTEL_BSP_*: the batch span processor's settings. */
  batch: {
    scheduledDelayMillis: number;
    maxQueueSize: number;
    maxExportBatchSize: number;
    exportTimeoutMillis: number;
  };
}

export class TelemetryConfigError extends Error {
  readonly code = 'TELEMETRY_CONFIG';
  readonly issues: string[];
  constructor(issues: string[]) {
    super(`invalid tracing configuration: ${issues.join('; ')}`);
    this.name = 'TelemetryConfigError';
    this.issues = issues;
  }
}

const blankIsUnset = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);
const int = (fallback: number, min: number, max: number) =>
  z.preprocess(blankIsUnset, z.coerce.number().int().min(min).max(max).default(fallback));
const url = z.preprocess(blankIsUnset, z.url({ protocol: /^https?$/ }).optional());

export const SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;

const Env = z.object({
  TRACING: z.preprocess(
    (v) => (typeof v === 'string' ? blankIsUnset(v.trim().toLowerCase()) : v),
    z.enum(['on', 'off', 'true', 'false', '1', '0']).optional(),
  ),
  OTEL_SDK_DISABLED: z.preprocess(
    (v) => (typeof v === 'string' ? blankIsUnset(v.trim().toLowerCase()) : v),
    z.enum(['true', 'false']).optional(),
  ),
  OTEL_SERVICE_NAME: z.preprocess(blankIsUnset, z.string().max(256).optional()),
  OTEL_EXPORTER_OTLP_ENDPOINT: url,
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: url,
  OTEL_TRACES_EXPORTER: z.preprocess(blankIsUnset, z.enum(['otlp', 'none']).optional()),
  OTEL_EXPORTER_OTLP_PROTOCOL: z.preprocess(blankIsUnset, z.literal('http/json').optional()),
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: z.preprocess(blankIsUnset, z.literal('http/json').optional()),
  OTEL_PROPAGATORS: z.preprocess(
    blankIsUnset,
    z
      .string()
      .refine(
        (v) => v.split(',').every((p) => ['tracecontext', 'baggage'].includes(p.trim())),
        'only tracecontext and baggage are supported',
      )
      .optional(),
  ),
  OTEL_TRACES_SAMPLER: z.preprocess(blankIsUnset, z.enum(SAMPLERS).default('parentbased_always_on')),
  OTEL_TRACES_SAMPLER_ARG: z.preprocess(blankIsUnset, z.coerce.number().min(0).max(1).optional()),
  TRACING_INCOMING: z.preprocess(blankIsUnset, z.enum(['trust', 'continue', 'restart']).optional()),
  OTEL_BSP_SCHEDULE_DELAY: int(5_000, 1, 600_000),
  OTEL_BSP_MAX_QUEUE_SIZE: int(2_048, 1, 1_000_000),
  OTEL_BSP_MAX_EXPORT_BATCH_SIZE: int(512, 1, 1_000_000),
  OTEL_BSP_EXPORT_TIMEOUT: int(30_000, 1, 600_000),
});

export interface ReadTracingOptions {
  /** The service's own name (legacy, modern, gateway): the default service.name. */
  service: string;
  /** The default TRACING_INCOMING: `continue` at a public edge, `trust` behind it. */
  incoming?: IncomingMode;
}

/** True when this environment turns tracing on (cheap; no validation). */
export function tracingRequested(env: Record<string, string | undefined>): boolean {
  const flag = env.TRACING?.trim().toLowerCase();
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false;
  if (flag === 'off' || flag === 'false' || flag === '0') return false;
  if (flag === 'on' || flag === 'true' || flag === '1') return true;
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim());
}

/**
 * Reads and validates the tracing variables; throws TelemetryConfigError naming every bad one.
 * Validation runs even when tracing is off, so a typo is found before someone turns it on.
 */
export function readTracingConfig(
  env: Record<string, string | undefined>,
  options: ReadTracingOptions,
): TracingConfig {
  const parsed = Env.safeParse(env);
  if (!parsed.success) {
    throw new TelemetryConfigError(
      parsed.error.issues.map((issue) => `${issue.path.join('.') || '(environment)'}: ${issue.message}`),
    );
  }
  const e = parsed.data;
  const sampler = e.OTEL_TRACES_SAMPLER;
  if (e.OTEL_TRACES_SAMPLER_ARG !== undefined && !sampler.endsWith('traceidratio')) {
    throw new TelemetryConfigError([
      `OTEL_TRACES_SAMPLER_ARG: only the ratio samplers take an argument (OTEL_TRACES_SAMPLER is ${sampler})`,
    ]);
  }
  const enabled = tracingRequested(env) && e.OTEL_TRACES_EXPORTER !== 'none';
  return {
    enabled,
    serviceName: e.OTEL_SERVICE_NAME ?? options.service,
    sampler,
    ratio: e.OTEL_TRACES_SAMPLER_ARG ?? 1,
    incoming: e.TRACING_INCOMING ?? options.incoming ?? 'trust',
    endpoint: e.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? e.OTEL_EXPORTER_OTLP_ENDPOINT,
    batch: {
      scheduledDelayMillis: e.OTEL_BSP_SCHEDULE_DELAY,
      maxQueueSize: e.OTEL_BSP_MAX_QUEUE_SIZE,
      maxExportBatchSize: Math.min(e.OTEL_BSP_MAX_EXPORT_BATCH_SIZE, e.OTEL_BSP_MAX_QUEUE_SIZE),
      exportTimeoutMillis: e.OTEL_BSP_EXPORT_TIMEOUT,
    },
  };
}
