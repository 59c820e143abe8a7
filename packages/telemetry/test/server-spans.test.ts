import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { context, SpanKind, trace } from '@opentelemetry/api';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestTracing, type TestTracing } from '../src/testing.ts';

/**
 * Server spans from Node's diagnostics channels on a plain http server: the span is the active
 * context in the handler, across awaits and across a request body's events.
 */
let tracing: TestTracing;
let server: http.Server;
let base: string;
const tracer = trace.getTracer('test');

beforeAll(async () => {
  tracing = startTestTracing({ service: 'server-spans' });
  server = http.createServer((req, res) => {
    if (req.method === 'POST') {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        // in the body's 'end' callback: still the request's context
        tracer.startSpan('after-body').end();
        res.end(Buffer.concat(chunks));
      });
      return;
    }
    if (req.url === '/whoami') {
      const sc = trace.getSpanContext(context.active());
      res.end(sc ? `${sc.traceId}-${sc.spanId}-${sc.traceFlags}` : 'none');
      return;
    }
    setTimeout(async () => {
      await Promise.resolve();
      tracer.startSpan('in-handler').end();
      res.statusCode = req.url === '/boom' ? 503 : 200;
      res.end('ok');
    }, 5);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterEach(() => tracing.reset());
afterAll(async () => {
  server.close();
  await tracing.shutdown();
});

const byName = (name: string) => tracing.spans().find((s) => s.name === name);

describe('server spans (diagnostics channels)', () => {
  it('one server span per request, parent of what the handler does after awaits', async () => {
    const res = await fetch(`${base}/articles?page=2`);
    await res.text();
    await expect.poll(() => byName('in-handler')).toBeDefined();
    await expect.poll(() => byName('GET')).toBeDefined();
    const server = byName('GET')!;
    const child = byName('in-handler')!;
    expect(server.kind).toBe(SpanKind.SERVER);
    expect(server.attributes).toMatchObject({
      'http.request.method': 'GET',
      'url.path': '/articles',
      'http.response.status_code': 200,
    });
    expect(child.spanContext().traceId).toBe(server.spanContext().traceId);
    expect(child.parentSpanContext?.spanId).toBe(server.spanContext().spanId);
  });

  it('keeps the context through a request body (POST)', async () => {
    const res = await fetch(`${base}/subscribers`, { method: 'POST', body: 'x'.repeat(100_000) });
    expect((await res.text()).length).toBe(100_000);
    await expect.poll(() => byName('POST')).toBeDefined();
    const child = byName('after-body')!;
    expect(child.parentSpanContext?.spanId).toBe(byName('POST')!.spanContext().spanId);
  });

  it('continues a caller’s traceparent and marks 5xx as errors', async () => {
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    const res = await fetch(`${base}/boom`, {
      headers: { traceparent: `00-${traceId}-b7ad6b7169203331-01` },
    });
    await res.text();
    await expect.poll(() => byName('GET')).toBeDefined();
    const span = byName('GET')!;
    expect(span.spanContext().traceId).toBe(traceId);
    expect(span.parentSpanContext?.spanId).toBe('b7ad6b7169203331');
    expect(span.status.code).toBe(2);
  });

  it('a caller’s "not sampled" goes on as it came: no span of ours, its context active', async () => {
    const traceId = '0af7651916cd43dd8448eb211c80319c';
    const res = await fetch(`${base}/whoami`, {
      headers: { traceparent: `00-${traceId}-b7ad6b7169203331-00` },
    });
    expect(await res.text()).toBe(`${traceId}-b7ad6b7169203331-0`);
    await (await fetch(`${base}/articles`)).text(); // a traced one after it, to wait for
    await expect.poll(() => tracing.spans().filter((s) => s.kind === SpanKind.SERVER).length).toBe(1);
    expect(tracing.spans().some((s) => s.spanContext().traceId === traceId)).toBe(false);
  });

  it('leaves probes and scrapes untraced, and leaks no context between requests', async () => {
    await (await fetch(`${base}/health`)).text();
    await (await fetch(`${base}/metrics`)).text();
    await (await fetch(`${base}/articles`)).text();
    await expect.poll(() => tracing.spans().filter((s) => s.kind === SpanKind.SERVER).length).toBe(1);
    expect(trace.getSpan(context.active())).toBeUndefined();
  });
});
