import { createRequire } from 'node:module';
import {
  type Context,
  context,
  type DiagLogger,
  DiagLogLevel,
  diag,
  propagation,
  TraceFlags,
  trace,
} from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { IORedisInstrumentation } from '@opentelemetry/instrumentation-ioredis';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  type Sampler,
  SamplingDecision,
  type SamplingResult,
  type SpanExporter,
  type SpanProcessor,
  TracerProvider,
} from '@opentelemetry/sdk-trace';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';
import type { TracingConfig } from './config.ts';
import { instrumentHttpServers } from './http-server.ts';
import type { NewRoots } from './state.ts';
import { BatchedIdGenerator, RootTraceparents, TraceIdRatioSampler } from './trace-ids.ts';

/**
 * The SDK, loaded only when tracing is on (index.ts imports this module dynamically): with
 * tracing off none of this is in memory and every span call is @opentelemetry/api's no-op.
 *
 * What is instrumented, and how (the package README says why, with the bench's numbers):
 * - inbound HTTP of legacy and modern: our own server span from Node's http diagnostics
 *   channels (and Fastify's, for the route pattern) — no module patching, no loader hook;
 * - outbound fetch (Strapi, the /aggregate upstreams): the official undici instrumentation,
 *   which also works from diagnostics channels and writes `traceparent` on every request;
 * - ioredis: the official instrumentation's patch, applied in place to the one ioredis the
 *   workspace resolves (ESM imports cannot be hooked without a loader, a patched prototype can);
 * - the gateway and the Strapi client create their own spans with @opentelemetry/api.
 */
export interface SdkOptions {
  config: TracingConfig;
  /** Replaces the OTLP exporter (tests use an in-memory one). */
  exporter?: SpanExporter;
  /** Replaces the batch processor (tests export synchronously). */
  spanProcessor?: SpanProcessor;
  /** Server spans for this process's HTTP servers (the apps); the gateway makes its own. */
  serverSpans: boolean;
  /** Only these servers (tests running several services in one process). */
  traceServer?: (server: import('node:http').Server) => boolean;
  /** Says that tracing is on (once) and receives the SDK's own warnings (export failures). */
  logger?: {
    info(obj: object, msg: string): void;
    warn(obj: object, msg: string): void;
    error(obj: object, msg: string): void;
  };
  /** Extra resource attributes (service.version, deployment.environment.name, …). */
  attributes?: Record<string, string>;
}

export interface Sdk {
  provider: TracerProvider;
  contextManager: AsyncLocalStorageContextManager;
  /** New traces decided as this provider's root sampler decides, its ids for the sampled. */
  roots: NewRoots;
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
}

/**
 * A root span linked as `pilot.link: follows` to another span (the gateway's shadow trace,
 * linked to the request it mirrors) takes that span's sampling decision: at 1 % sampling the
 * shadow trace of a sampled request is there, and no shadow trace exists without its request's.
 */
class FollowLinkSampler implements Sampler {
  readonly #inner: Sampler;
  constructor(inner: Sampler) {
    this.#inner = inner;
  }
  shouldSample(...args: Parameters<Sampler['shouldSample']>): SamplingResult {
    const [ctx, , , , , links] = args;
    if (!trace.getSpanContext(ctx)) {
      const followed = links.find((link) => link.attributes?.['pilot.link'] === 'follows');
      if (followed) {
        return {
          decision:
            (followed.context.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED
              ? SamplingDecision.RECORD_AND_SAMPLED
              : SamplingDecision.NOT_RECORD,
        };
      }
    }
    return this.#inner.shouldSample(...args);
  }
  toString(): string {
    return `FollowLinkSampler{${this.#inner.toString()}}`;
  }
}

export function buildSampler(
  config: Pick<TracingConfig, 'sampler' | 'ratio' | 'incoming'>,
  ids?: BatchedIdGenerator,
): Sampler {
  return new FollowLinkSampler(baseSampler(config, ids));
}

function baseSampler(
  config: Pick<TracingConfig, 'sampler' | 'ratio' | 'incoming'>,
  ids: BatchedIdGenerator | undefined,
): Sampler {
  const ratio = new TraceIdRatioSampler(config.ratio, ids);
  switch (config.sampler) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return ratio;
    default: {
      const root =
        config.sampler === 'parentbased_always_on'
          ? new AlwaysOnSampler()
          : config.sampler === 'parentbased_always_off'
            ? new AlwaysOffSampler()
            : ratio;
      // `continue`: a remote caller's flag is not a decision; its trace id goes through our root
      // sampler like a new trace's would (ratio sampling hashes the trace id, so every hop agrees).
      return config.incoming === 'continue'
        ? new ParentBasedSampler({ root, remoteParentSampled: root, remoteParentNotSampled: root })
        : new ParentBasedSampler({ root });
    }
  }
}

/** The ratio a new trace (no parent, no link) is sampled at under `config.sampler`. */
export function rootRatio(config: Pick<TracingConfig, 'sampler' | 'ratio'>): number {
  switch (config.sampler) {
    case 'always_on':
    case 'parentbased_always_on':
      return 1;
    case 'always_off':
    case 'parentbased_always_off':
      return 0;
    default:
      return config.ratio;
  }
}

function diagLogger(logger: NonNullable<SdkOptions['logger']>): DiagLogger {
  const noop = () => {};
  return {
    error: (message, ...args) => logger.error({ args }, `telemetry: ${message}`),
    warn: (message, ...args) => logger.warn({ args }, `telemetry: ${message}`),
    info: noop,
    debug: noop,
    verbose: noop,
  };
}

/** Makes `ctx` the active context for the rest of this synchronous run and what it schedules. */
export type EnterContext = (ctx: Context) => void;

function enterWith(manager: AsyncLocalStorageContextManager): EnterContext {
  // AsyncLocalStorageContextManager has no public enterWith; its storage is the one field that
  // a server span needs to set from a diagnostics-channel subscriber (no callback to wrap there).
  const storage = (manager as unknown as { _asyncLocalStorage?: { enterWith(ctx: Context): void } })
    ._asyncLocalStorage;
  if (!storage || typeof storage.enterWith !== 'function') {
    throw new Error('telemetry: the context manager no longer exposes its AsyncLocalStorage');
  }
  return (ctx) => storage.enterWith(ctx);
}

let installed: Sdk | undefined;

/** Registers the global tracer provider, context manager and propagator (once per process). */
export function startSdk(options: SdkOptions): Sdk {
  if (installed) throw new Error('telemetry: the SDK is already started in this process');
  const { config } = options;
  if (options.logger) diag.setLogger(diagLogger(options.logger), DiagLogLevel.WARN);

  const resource = resourceFromAttributes({
    [ATTR_SERVICE_NAME]: config.serviceName,
    ...options.attributes,
  }).merge(detectResources({ detectors: [envDetector] }));

  const processor =
    options.spanProcessor ??
    new BatchSpanProcessor({
      exporter: options.exporter ?? new OTLPTraceExporter(),
      ...config.batch,
    });
  const ids = new BatchedIdGenerator();
  const provider = new TracerProvider({
    resource,
    idGenerator: ids,
    sampler: buildSampler(config, ids),
    spanProcessors: [processor],
  });
  const contextManager = new AsyncLocalStorageContextManager();
  contextManager.enable();
  context.setGlobalContextManager(contextManager);
  trace.setGlobalTracerProvider(provider);
  propagation.setGlobalPropagator(
    new CompositePropagator({
      propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()],
    }),
  );

  const undici = new UndiciInstrumentation({
    requireParentforSpans: true,
    // outside any trace (a shadow mirror, a rollout gate's scrape, a background refresh) the
    // instrumentation would still parse the URL and headers of every request: skip it early
    ignoreRequestHook: () => trace.getSpan(context.active()) === undefined,
  });
  undici.setTracerProvider(provider);
  undici.enable();
  const unpatchRedis = patchIoredis(provider);
  const stopServers = options.serverSpans
    ? instrumentHttpServers({
        tracer: provider.getTracer('@pilot/telemetry'),
        enter: enterWith(contextManager),
        bind: (ctx, emitter) => void contextManager.bind(ctx, emitter),
        config,
        traceServer: options.traceServer,
      })
    : () => {};

  options.logger?.info(
    {
      service: config.serviceName,
      endpoint: options.exporter || options.spanProcessor ? '(in process)' : (config.endpoint ?? 'default'),
      sampler: config.sampler,
      ratio: config.ratio,
      incoming: config.incoming,
    },
    'tracing on',
  );
  let down: Promise<void> | undefined;
  const roots = new RootTraceparents(rootRatio(config));
  const sdk: Sdk = {
    provider,
    contextManager,
    roots: { next: () => roots.next(), prime: (traceparent) => ids.primeRoot(traceparent) },
    forceFlush: () => provider.forceFlush(),
    shutdown() {
      down ??= (async () => {
        stopServers();
        undici.disable();
        unpatchRedis();
        await provider.shutdown().catch(() => {});
        trace.disable();
        context.disable();
        propagation.disable();
        diag.disable();
        installed = undefined;
      })();
      return down;
    },
  };
  installed = sdk;
  return sdk;
}

/**
 * The official ioredis instrumentation, applied to the ioredis every workspace package imports
 * (one copy: they all ask for the same major). Commands get a span only inside a traced request.
 */
function patchIoredis(provider: TracerProvider): () => void {
  let ioredis: unknown;
  let version: string | undefined;
  try {
    const require = createRequire(import.meta.url);
    ioredis = require('ioredis');
    version = (require('ioredis/package.json') as { version: string }).version;
  } catch {
    return () => {};
  }
  const instrumentation = new IORedisInstrumentation({
    enabled: false,
    requireParentSpan: true,
    // the command only: keys hold cache keys built from query strings (search terms, emails)
    dbStatementSerializer: (command) => command,
  });
  instrumentation.setTracerProvider(provider);
  const definitions = instrumentation.getModuleDefinitions();
  for (const definition of definitions) definition.patch?.(ioredis, version);
  return () => {
    for (const definition of definitions) definition.unpatch?.(ioredis, version);
  };
}
