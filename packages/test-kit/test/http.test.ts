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

describe('startTestServer', () => {
  it('survives a client that aborts mid-upload (no unhandled rejection) and keeps serving', async () => {
    const { startTestServer } = await import('../src/http.ts');
    const { connect } = await import('node:net');
    const server = await startTestServer((_req, res) => {
      res.end('ok');
    });
    try {
      await new Promise<void>((resolve) => {
        const socket = connect(server.port, '127.0.0.1', () => {
          socket.write('POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 1000\r\n\r\npartial');
          setImmediate(() => socket.destroy());
        });
        socket.on('close', () => resolve());
      });
      const res = await fetch(server.url);
      expect(await res.text()).toBe('ok');
    } finally {
      await server.close();
    }
  });
});
