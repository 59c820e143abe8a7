import type { IncomingMode, TracingConfig } from './config.ts';
import { readTracingConfig } from './config.ts';
import type { Sdk, SdkOptions } from './sdk.ts';
import { setTracing } from './state.ts';

export {
  type IncomingMode,
  type ReadTracingOptions,
  readTracingConfig,
  type SamplerName,
  TelemetryConfigError,
  type TracingConfig,
  tracingRequested,
} from './config.ts';
// the few API names instrumented code needs, so packages depend on this one package
export { context, type Link, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
export { exemplarLabels, traceIdOf } from './exemplars.ts';
export {
  isoTime,
  LOG_FLUSH_INTERVAL_MS,
  type LineOutput,
  type LineOutputOptions,
  lineOutput,
  stdoutDroppedChunks,
  stdoutLines,
} from './log-output.ts';
export { noteRoute } from './http-server.ts';
export { renderMetrics, wantsOpenMetrics } from './metrics.ts';
export { type HeaderCarrier, type Incoming, incomingContext, injectHeaders } from './propagation.ts';
export { isSampledRoot, isTracing, newRootTraceparent, primeRoot, tracingIncoming } from './state.ts';

export interface TelemetryOptions {
  /** The service's own name (the default service.name). */
  service: string;
  /** Where the variables come from; default process.env. */
  env?: Record<string, string | undefined>;
  /** Default TRACING_INCOMING: `continue` at the public edge (the gateway), `trust` behind it. */
  incoming?: IncomingMode;
  /** Server spans for this process's HTTP servers (legacy, modern). Default true. */
  serverSpans?: boolean;
  logger?: SdkOptions['logger'];
  attributes?: Record<string, string>;
}

export interface Telemetry {
  readonly enabled: boolean;
  readonly config: TracingConfig;
  /** Exports what is buffered (tests, before a planned exit). */
  flush(): Promise<void>;
  /** Flushes and unregisters; call once the server has drained. Idempotent. */
  shutdown(): Promise<void>;
}

/**
 * Tracing for this process, from the environment: validates the variables (throws
 * TelemetryConfigError naming each bad one), and when tracing is on loads and registers the
 * SDK. When it is off, the SDK is never imported and @opentelemetry/api stays the no-op it is
 * by default: span calls in the gateway and the Strapi client cost a property read.
 */
export async function initTelemetry(options: TelemetryOptions): Promise<Telemetry> {
  const config = readTracingConfig(options.env ?? process.env, {
    service: options.service,
    incoming: options.incoming,
  });
  if (!config.enabled) {
    return { enabled: false, config, flush: async () => {}, shutdown: async () => {} };
  }
  const { startSdk } = await import('./sdk.ts');
  return started(
    config,
    startSdk({
      config,
      serverSpans: options.serverSpans ?? true,
      logger: options.logger,
      attributes: options.attributes,
    }),
  );
}

/** Wraps a started SDK (also used by the testing helper). */
export function started(config: TracingConfig, sdk: Sdk): Telemetry {
  setTracing(true, config.incoming, sdk.roots);
  return {
    enabled: true,
    config,
    flush: () => sdk.forceFlush(),
    async shutdown() {
      await sdk.shutdown();
      setTracing(false);
    },
  };
}
