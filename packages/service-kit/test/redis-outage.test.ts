import {
  startFakeStrapi,
  startThrowawayRedis,
  type FakeStrapi,
  type ThrowawayRedis,
} from '@pilot/strapi-client/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger, createServiceDeps, loadServiceConfig, type ServiceDeps } from '../src/index.ts';

/**
 * The session Redis (refresh tokens, the webhook replay guard) away: a login must fail at once
 * with 503, not wait while ioredis queues the command for a reconnect, nor wait for the command
 * timeout on every request while Redis is stopped (SIGSTOP keeps the connection open). It comes
 * back by itself. Private redis-server (never the shared one); fake Strapi (not used by login).
 */
const FAST_MS = 1_000; // a queued command waits for ioredis's retries (seconds); 1 s leaves room for a loaded CI box
const logger = createLogger({ service: 'test', level: 'silent' });

describe('session Redis outage (private redis-server, fake Strapi)', () => {
  let redis: ThrowawayRedis | undefined;
  let strapi: FakeStrapi | undefined;
  let deps: ServiceDeps | undefined;
  afterEach(async () => {
    redis?.resume();
    await deps?.close();
    await strapi?.close();
    await redis?.close();
  });

  async function setup() {
    redis = await startThrowawayRedis();
    strapi = await startFakeStrapi({ collections: { articles: [] } });
    const config = loadServiceConfig(
      { NODE_ENV: 'test', LOG_LEVEL: 'silent', STRAPI_URL: strapi.url, REDIS_URL: redis.url },
      { port: 0 },
    );
    deps = createServiceDeps(config, logger, { redisPrefix: `outage-${Date.now()}:` });
    const session = deps.redis!;
    await expect.poll(() => session.status, { timeout: 5_000 }).toBe('ready');
    const login = async () => {
      const started = performance.now();
      try {
        await deps!.auth.login('demo', 'demo-password');
        return { ok: true, ms: performance.now() - started };
      } catch (error) {
        return { ok: false, ms: performance.now() - started, code: (error as { code?: string }).code };
      }
    };
    // the password check itself costs CPU: measure what Redis adds on top of a working login
    const baseline = await login();
    expect(baseline.ok).toBe(true);
    return { login, session, baseline: baseline.ms };
  }

  it('killed: logins fail at once with SERVICE_UNAVAILABLE, and work again once Redis is back', async () => {
    const { login, session, baseline } = await setup();
    await redis!.kill();
    await expect.poll(() => session.status, { timeout: 5_000 }).not.toBe('ready');
    for (let i = 0; i < 5; i++) {
      const r = await login();
      expect(r).toMatchObject({ ok: false, code: 'SERVICE_UNAVAILABLE' });
      expect(r.ms).toBeLessThan(baseline + FAST_MS);
    }
    await redis!.restart();
    await expect.poll(async () => (await login()).ok, { timeout: 10_000, interval: 200 }).toBe(true);
  });

  it('stopped (SIGSTOP): noticed in about a second, then logins fail at once; SIGCONT brings it back', async () => {
    const { login, session, baseline } = await setup();
    redis!.stop();
    await expect.poll(() => session.status, { timeout: 5_000, interval: 100 }).not.toBe('ready');
    for (let i = 0; i < 5; i++) {
      const r = await login();
      expect(r).toMatchObject({ ok: false, code: 'SERVICE_UNAVAILABLE' });
      expect(r.ms).toBeLessThan(baseline + FAST_MS);
    }
    redis!.resume();
    await expect.poll(async () => (await login()).ok, { timeout: 10_000, interval: 200 }).toBe(true);
  });
});
