import { errorBody, HEADERS } from '@pilot/contracts';
import { describe, expect, it, vi } from 'vitest';
import { createApp } from '../src/index.ts';
import { testDeps } from './helpers.ts';

describe('load shedding (@fastify/under-pressure)', () => {
  it('answers 503 OVERLOADED with Retry-After while under pressure; /health and /metrics stay up', async () => {
    // a heap cap of 1 byte: under pressure from the first sample on, deterministically
    const app = createApp(
      testDeps({ tuning: { underPressure: { maxHeapUsedBytes: 1, sampleInterval: 5, retryAfter: 7 } } }),
    );
    await app.ready();
    try {
      const underPressure = app as unknown as { isUnderPressure(): boolean };
      await vi.waitFor(() => expect(underPressure.isUnderPressure()).toBe(true));
      for (const url of ['/articles', '/nope', '/ready']) {
        const res = await app.inject({ url, headers: { 'x-request-id': 'shed-1' } });
        expect(res.statusCode, url).toBe(503);
        expect(res.headers['retry-after']).toBe('7');
        expect(res.headers['content-type']).toBe(HEADERS.contentType);
        expect(res.headers['cache-control']).toBe(HEADERS.privateCacheControl);
        expect(res.headers['x-request-id']).toBe('shed-1');
        expect(res.json()).toEqual(errorBody('OVERLOADED'));
      }
      const post = await app.inject({
        method: 'POST',
        url: '/subscribers',
        payload: { email: 'a@example.com' },
      });
      expect(post.statusCode).toBe(503);
      expect((await app.inject('/health')).statusCode).toBe(200);
      const metrics = await app.inject('/metrics');
      expect(metrics.statusCode).toBe(200);
      expect(metrics.body).toContain('route="/articles",status="503"');
    } finally {
      await app.close();
    }
  });

  it('with production thresholds an idle app is not shedding', async () => {
    const app = createApp(testDeps({ tuning: {} }));
    try {
      expect((await app.inject('/articles?pageSize=1')).statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });
});
