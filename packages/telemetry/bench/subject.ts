/**
 * One bench subject per process (started by run.ts, pinned to its own core): the real gateway
 * in front of a trivial backend, or the real modern app answering cached reads through the
 * Strapi client, with tracing in one of three modes:
 *
 *   off          no SDK (what ships by default)
 *   on:<ratio>   this package: manual spans (gateway, Strapi client), server spans from
 *                diagnostics channels (apps), official undici and ioredis instrumentation
 *   auto:<ratio> the official http instrumentation instead of our server/gateway spans
 *
 * Spans go to run.ts's OTLP sink over HTTP, so serialising and sending them is counted
 * (`BENCH_EXPORTER=none` drops each batch instead, to tell the export from the rest).
 * Prints `ready <port>` on stdout.
 */
import { createRequire, syncBuiltinESMExports } from 'node:module';

const [role, mode = 'off', target = '', sink = ''] = process.argv.slice(2);

async function tracing(service: string, serverSpans: boolean): Promise<void> {
  if (mode === 'off') return;
  const [kind, ratio] = mode.split(':') as [string, string];
  const { readTracingConfig, started } = await import('../src/index.ts');
  const { startSdk } = await import('../src/sdk.ts');
  const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
  const config = {
    ...readTracingConfig(
      {
        TRACING: 'on',
        OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
        OTEL_TRACES_SAMPLER_ARG: ratio,
        TRACING_INCOMING: service === 'gateway' ? 'continue' : 'trust',
        // the batch processor's settings, where a bench sets them (instructions.ts does)
        ...Object.fromEntries(Object.entries(process.env).filter(([key]) => key.startsWith('OTEL_BSP_'))),
      },
      { service },
    ),
    enabled: true,
  };
  // BENCH_EXPORTER=none: spans are batched, then dropped unserialised — what the export costs
  const exporter: import('@opentelemetry/sdk-trace').SpanExporter =
    process.env.BENCH_EXPORTER === 'none'
      ? { export: (_spans, done) => done({ code: 0 }), shutdown: async () => {} }
      : new OTLPTraceExporter({ url: sink });
  if (kind === 'on') {
    started(config, startSdk({ config, exporter, serverSpans }));
    return;
  }
  // auto: the SDK without our hooks (isTracing() stays false) plus the official http
  // instrumentation, applied to node:http as its require hook would (ESM bindings resynced)
  const sdk = startSdk({ config, exporter, serverSpans: false });
  const { HttpInstrumentation } = await import('@opentelemetry/instrumentation-http');
  const http = new HttpInstrumentation();
  http.setTracerProvider(sdk.provider);
  http.enable();
  const require = createRequire(import.meta.url);
  require('node:http');
  require('node:https');
  syncBuiltinESMExports();
}

async function start(): Promise<number> {
  switch (role) {
    case 'backend': {
      const http = await import('node:http');
      const body = JSON.stringify({ data: { slug: 'hello-world', title: 'Hello, world' }, meta: {} });
      const server = http.createServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      });
      server.keepAliveTimeout = 65_000;
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return (server.address() as import('node:net').AddressInfo).port;
    }
    case 'gateway': {
      await tracing('gateway', false);
      const { mkdtemp, writeFile } = await import('node:fs/promises');
      const { tmpdir } = await import('node:os');
      const { join } = await import('node:path');
      const { createGateway } = await import('../../../gateway/src/index.ts');
      const file = join(await mkdtemp(join(tmpdir(), 'pilot-telemetry-bench-')), 'routes.yaml');
      await writeFile(
        file,
        `backends:\n  app: { url: ${target} }\nroutes:\n  - id: all\n    path: /*\n    backend: app\n`,
      );
      const gw = await createGateway({
        routesFile: file,
        port: 0,
        adminPort: 0,
        host: '127.0.0.1',
        logLevel: 'error',
        accessLog: false,
        healthChecks: false,
        writeBack: false,
        watch: false,
      });
      return (await gw.listen()).port;
    }
    case 'modern': {
      await tracing('modern', true);
      const { startFakeStrapi } = await import('../../strapi-client/src/testing/index.ts');
      const { createLogger, createServiceDeps, loadServiceConfig } = await import(
        '../../service-kit/src/index.ts'
      );
      const { createApp } = await import('../../../apps/modern/src/index.ts');
      const article = (documentId: string, slug: string) => ({
        documentId,
        slug,
        title: `Title ${slug}`,
        summary: `Summary ${slug}`,
        body: `Body ${slug}`,
        publishedAt: '2025-01-01T00:00:00.000Z',
        updatedAt: '2025-01-01T00:00:00.000Z',
        author: null,
      });
      // a fake Strapi: the bench measures the cached read path, Strapi is asked once per key
      const strapi = await startFakeStrapi({ collections: { articles: [article('doc-a', 'alpha')] } });
      const config = loadServiceConfig(
        { NODE_ENV: 'test', LOG_LEVEL: 'silent', STRAPI_URL: strapi.url, CACHE_TTL_MS: '3600000' },
        { port: 0 },
      );
      const logger = createLogger({ service: 'modern', level: 'silent' });
      const deps = createServiceDeps(config, logger, { service: 'modern' });
      const app = createApp({
        config,
        logger,
        content: deps.content,
        auth: deps.auth,
        metrics: deps.metrics,
        tuning: { underPressure: false },
      });
      const url = await app.listen({ host: '127.0.0.1', port: 0 });
      return Number(new URL(url).port);
    }
    default:
      throw new Error(`unknown role ${role}`);
  }
}

start().then(
  (port) => process.stdout.write(`ready ${port}\n`),
  (error: Error) => {
    process.stderr.write(`${error.stack ?? error.message}\n`);
    process.exit(1);
  },
);
