/**
 * New traces started at the gateway, half of them sampled (echo backends: fake backends that
 * answer with the headers they got). A request that arrives without a `traceparent` gets one
 * decided before any span exists; a sampled one gets the gateway's span with exactly those ids,
 * an unsampled one no span at all — and either way the backend learns the trace and the decision.
 */
import { context } from '@pilot/telemetry';
import {
  SamplingDecision,
  startTestTracing,
  TraceIdRatioBasedSampler,
  type TestTracing,
} from '@pilot/telemetry/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayHandle } from '../src/index.ts';
import { type Backends, call, startBackends, startGateway, tempDir, writeTable } from './helpers.ts';

const RATIO = 0.5;
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-(0[01])$/;

describe('new traces at the gateway, sampled at 50 % (echo backends)', () => {
  let tracing: TestTracing;
  let backends: Backends;
  let gw: GatewayHandle;
  let cleanup: () => Promise<void>;
  const sdkSampler = new TraceIdRatioBasedSampler(RATIO);
  const sdkSamples = (traceId: string) =>
    sdkSampler.shouldSample(context.active(), traceId).decision === SamplingDecision.RECORD_AND_SAMPLED;

  beforeAll(async () => {
    tracing = startTestTracing({
      service: 'pilot-test',
      env: {
        TRACING_INCOMING: 'continue',
        OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
        OTEL_TRACES_SAMPLER_ARG: String(RATIO),
      },
      serverSpans: false,
    });
    backends = await startBackends();
    const dir = await tempDir();
    cleanup = dir.cleanup;
    const file = await writeTable(
      dir.dir,
      `
backends:
  legacy: { url: ${backends.legacy.url}, healthCheck: { enabled: false } }
  modern: { url: ${backends.modern.url}, healthCheck: { enabled: false } }
routes:
  - id: mirrored
    path: /mirrored/*
    backend: modern
    shadow: { backend: legacy }
  - id: plain
    path: /*
    backend: modern
`,
    );
    gw = await startGateway({ routesFile: file });
  });

  afterAll(async () => {
    await gw?.close();
    await backends?.close();
    await cleanup?.();
    await tracing?.shutdown();
  });

  const gatewaySpans = () => tracing.spans().filter((s) => s.instrumentationScope.name === '@pilot/gateway');

  it("each gets a new traceparent, sampled as the SDK's ratio sampler decides, and the gateway's span has exactly its ids", async () => {
    const sent: Array<{ traceId: string; spanId: string; sampled: boolean }> = [];
    for (let i = 0; i < 120; i++) {
      // a tracestate without a traceparent belongs to no trace: it does not go on with the new one
      const headers: Record<string, string> = i % 3 === 0 ? { tracestate: 'vendor=opaque' } : {};
      const got = (await call(`${gw.url}/plain/${i}`, { headers })).json<{
        headers: Record<string, string>;
      }>().headers;
      expect(got.tracestate).toBeUndefined();
      const m = TRACEPARENT.exec(got.traceparent ?? '');
      expect(m, got.traceparent).not.toBeNull();
      const [, traceId, spanId, flags] = m!;
      expect(traceId).not.toBe('0'.repeat(32));
      expect(spanId).not.toBe('0'.repeat(16));
      expect(flags === '01').toBe(sdkSamples(traceId!));
      sent.push({ traceId: traceId!, spanId: spanId!, sampled: flags === '01' });
    }
    expect(new Set(sent.map((s) => s.traceId)).size).toBe(sent.length);
    // both kinds occurred (all 120 alike at 50 %: one chance in 2¹¹⁹)
    expect(sent.some((s) => s.sampled)).toBe(true);
    expect(sent.some((s) => !s.sampled)).toBe(true);
    await expect.poll(() => gatewaySpans().length).toBe(sent.filter((s) => s.sampled).length);
    const spans = gatewaySpans();
    for (const s of sent) {
      const span = spans.find((x) => x.spanContext().traceId === s.traceId);
      if (!s.sampled) {
        expect(span).toBeUndefined();
        continue;
      }
      expect(span?.name).toBe('GET plain');
      expect(span?.spanContext().spanId).toBe(s.spanId);
      expect(span?.parentSpanContext).toBeUndefined();
    }
  });

  it('a mirrored request: the mirror is a new trace, sampled exactly when the served one is', async () => {
    tracing.reset();
    const served = new Map<string, string>();
    for (let i = 0; i < 40; i++) {
      const reply = await call(`${gw.url}/mirrored/${i}`);
      served.set(`/mirrored/${i}`, reply.json<{ headers: Record<string, string> }>().headers.traceparent!);
    }
    await expect
      .poll(() => backends.legacy.requests.filter((r) => r.url.startsWith('/mirrored/')).length)
      .toBe(40);
    for (const mirror of backends.legacy.requests.filter((r) => r.url.startsWith('/mirrored/'))) {
      const [, servedTrace, , servedFlags] = TRACEPARENT.exec(served.get(mirror.url)!)!;
      const m = TRACEPARENT.exec(String(mirror.headers.traceparent));
      expect(m, String(mirror.headers.traceparent)).not.toBeNull();
      const [, traceId, , flags] = m!;
      expect(traceId).not.toBe(servedTrace);
      expect(flags).toBe(servedFlags);
    }
    const sampled = [...served.values()].filter((tp) => tp.endsWith('-01')).length;
    // the served span and its shadow span for each sampled request, nothing for the others
    await expect.poll(() => gatewaySpans().length).toBe(sampled * 2);
  });
});
