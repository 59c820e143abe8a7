import { describe, expect, it } from 'vitest';
import { startDelayedUpstream } from '../src/http.ts';

describe('startDelayedUpstream', () => {
  it('answers its source name as JSON and records the request', async () => {
    const upstream = await startDelayedUpstream('weather', { status: 200 });
    try {
      const res = await fetch(`${upstream.url}/x?y=1`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ source: 'weather', delayMs: 0 });
      expect(upstream.requests.map((r) => r.url)).toEqual(['/x?y=1']);
    } finally {
      await upstream.close();
    }
  });

  it('a hanging upstream never answers before the client gives up', async () => {
    const upstream = await startDelayedUpstream('stuck', { hang: true });
    try {
      await expect(fetch(upstream.url, { signal: AbortSignal.timeout(200) })).rejects.toThrow();
    } finally {
      await upstream.close();
    }
  });
});
