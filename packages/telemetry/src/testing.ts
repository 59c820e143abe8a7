import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace';
import { readTracingConfig } from './config.ts';
import { started, type Telemetry } from './index.ts';
import { startSdk } from './sdk.ts';

/**
 * Tracing for tests: the production SDK set-up (same sampler, propagator, context manager and
 * instrumentation) with spans kept in memory and exported as each one ends.
 */
export interface TestTracing extends Telemetry {
  /** Finished spans, in the order they ended. */
  spans(): ReadableSpan[];
  /** Forgets the finished spans. */
  reset(): void;
}

export function startTestTracing(
  options: {
    service?: string;
    env?: Record<string, string | undefined>;
    serverSpans?: boolean;
    /** Which HTTP servers get server spans (default all). */
    traceServer?: (server: import('node:http').Server) => boolean;
  } = {},
): TestTracing {
  const config = {
    ...readTracingConfig(
      { TRACING: 'on', ...options.env },
      { service: options.service ?? 'test', incoming: 'trust' },
    ),
    enabled: true,
  };
  const exporter = new InMemorySpanExporter();
  const telemetry = started(
    config,
    startSdk({
      config,
      spanProcessor: new SimpleSpanProcessor({ exporter }),
      serverSpans: options.serverSpans ?? true,
      traceServer: options.traceServer,
    }),
  );
  return {
    ...telemetry,
    spans: () => exporter.getFinishedSpans() as ReadableSpan[],
    reset: () => exporter.reset(),
  };
}

export type { ReadableSpan } from '@opentelemetry/sdk-trace';
// the SDK's own ratio sampler, for tests that hold a decision made elsewhere to it
export { SamplingDecision, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace';
