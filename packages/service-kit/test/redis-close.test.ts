import { createServer, type Socket } from 'node:net';
import { startFakeStrapi } from '@pilot/strapi-client/testing';
import { describe, expect, it } from 'vitest';
import { createLogger, createServiceDeps, loadServiceConfig } from '../src/index.ts';

/**
 * Closing while a Redis connection is still in its handshake (a SIGTERM right after start-up on
 * a loaded machine). ioredis then fails its ready check (the stream was ended) and emits that
 * as an 'error' before 'end': close() must still resolve, and no promise may reject unhandled
 * (close-with-grace exits 1 on one). A fake Redis, because the timing is the point: it answers
 * every command, but only after HANDSHAKE_DELAY_MS, and closes its side later still.
 */
const HANDSHAKE_DELAY_MS = 150;

function startSlowFakeRedis() {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('data', (data) => {
      // one +OK per command (RESP arrays start with '*'); INFO gets an empty bulk string
      const commands = data
        .toString('latin1')
        .split('\r\n')
        .filter((l) => l.startsWith('*')).length;
      const info = /\binfo\b/i.test(data.toString('latin1'));
      setTimeout(() => {
        if (!socket.destroyed) socket.write(info ? '$0\r\n\r\n' : '+OK\r\n'.repeat(commands));
      }, HANDSHAKE_DELAY_MS);
    });
    socket.on('end', () => setTimeout(() => socket.end(), HANDSHAKE_DELAY_MS * 2));
  });
  return new Promise<{ url: string; close(): Promise<void> }>((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      resolve({
        url: `redis://127.0.0.1:${port}`,
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}

describe('closing during the Redis handshake (fake Redis that answers late)', () => {
  it('close() resolves and nothing rejects unhandled, at any moment of the handshake', async () => {
    const redis = await startSlowFakeRedis();
    const strapi = await startFakeStrapi({ collections: { articles: [] } });
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const config = loadServiceConfig(
        { NODE_ENV: 'test', LOG_LEVEL: 'silent', STRAPI_URL: strapi.url, REDIS_URL: redis.url },
        { port: 0 },
      );
      const logger = createLogger({ service: 'test', level: 'silent' });
      // close at several points: before the connection, during the handshake, around the ready check
      for (const afterMs of [0, 20, 60, HANDSHAKE_DELAY_MS + 20, HANDSHAKE_DELAY_MS * 2 + 20]) {
        const deps = createServiceDeps(config, logger, { redisPrefix: `close-${afterMs}:` });
        await new Promise((r) => setTimeout(r, afterMs));
        await expect(deps.close()).resolves.toBeUndefined();
      }
      // what ioredis does after close() returned (the ready check's error, 'end') has happened
      await new Promise((r) => setTimeout(r, HANDSHAKE_DELAY_MS * 4));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
      await strapi.close();
      await redis.close();
    }
  });
});
