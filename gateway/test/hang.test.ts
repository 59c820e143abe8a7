/**
 * A hung backend: the real apps/modern process stopped with SIGSTOP (its port still accepts
 * connections, nothing answers). It used to take 13–16 s to notice (3 health checks × 5 s) while
 * requests waited for a 30 s timeout and none fell back. Now: noticed in about 2 s, idempotent
 * requests already waiting move to the fallback, new ones are refused at once, and it comes back
 * by itself after SIGCONT. The legacy side is a fake (it only has to answer).
 */
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayHandle } from '../src/index.ts';
import { call, echo, startGateway, tempDir, writeTable } from './helpers.ts';
import { type Proc, startModernProcess } from './processes.ts';
import { startTestServer, type TestServer } from '@pilot/test-kit';

describe('a hung backend (real modern process, SIGSTOP; fake legacy)', () => {
  let modern: Proc;
  let legacy: TestServer;
  let gw: GatewayHandle;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    // nothing listens on port 9: content routes answer a fast 503, /openapi.json needs nothing
    modern = await startModernProcess({ STRAPI_URL: 'http://127.0.0.1:9', LOG_LEVEL: 'info' });
    legacy = await startTestServer(echo('legacy'));
    const t = await tempDir();
    cleanup = t.cleanup;
    const file = await writeTable(
      t.dir,
      `backends:
  legacy: { url: ${legacy.url}, healthCheck: { enabled: false } }
  modern: { url: ${modern.url} }
routes:
  - { id: articles, path: /articles*, backend: modern, fallback: legacy }
  - { id: docs, path: [/docs*, /openapi.json], backend: modern }
  - { id: default, path: /*, backend: legacy }
`,
    );
    gw = await startGateway({ routesFile: file, healthChecks: true, accessLog: false });
  });
  afterAll(async () => {
    if (modern?.child.pid && modern.alive()) process.kill(modern.child.pid, 'SIGCONT');
    await gw?.close();
    await modern?.stop();
    await legacy?.close();
    await cleanup?.();
  });

  it('is noticed in about 2 s; waiting GETs fall back, new requests get a fast 503; SIGCONT brings it back', async () => {
    expect((await call(`${gw.url}/openapi.json`)).headers['x-backend']).toBe('modern');
    const down = once(gw.gateway.events, 'health', {}).then(async function wait(args): Promise<number> {
      const [name, healthy] = args as [string, boolean];
      if (name === 'modern' && !healthy) return Date.now();
      return wait(await once(gw.gateway.events, 'health'));
    });

    const stoppedAt = Date.now();
    process.kill(modern.child.pid!, 'SIGSTOP');
    const timed = (p: Promise<{ status: number; headers: Record<string, unknown> }>) =>
      p.then((r) => ({ status: r.status, backend: r.headers['x-backend'], at: Date.now() - stoppedAt }));
    // requests already on their way when it stops
    const gets = Array.from({ length: 5 }, (_, i) => timed(call(`${gw.url}/articles/a${i}`)));
    const docs = timed(call(`${gw.url}/openapi.json`));

    const detectedAfter = (await down) - stoppedAt;
    expect(detectedAfter).toBeLessThan(4_000); // ~2 s; generous for a loaded 2-core machine
    for (const g of await Promise.all(gets)) {
      expect(g).toMatchObject({ status: 200, backend: 'legacy' });
      expect(g.at).toBeLessThan(4_500);
    }
    expect(gw.gateway.pool.get('modern')!.view()).toMatchObject({
      healthy: false,
      breaker: 'open',
      state: 'down',
    });

    // a new request without a fallback is refused at once, not after a timeout
    const t0 = Date.now();
    const refused = await call(`${gw.url}/openapi.json`);
    expect(refused.status).toBe(503);
    expect(refused.json()).toMatchObject({ error: { code: 'BACKEND_UNAVAILABLE' } });
    expect(Date.now() - t0).toBeLessThan(1_000);
    // the one that was already waiting and has nowhere else to go: its head deadline (5 s)
    expect(await docs).toMatchObject({ status: 504, backend: 'gateway' });

    process.kill(modern.child.pid!, 'SIGCONT');
    await expect
      .poll(
        async () => {
          await call(`${gw.url}/openapi.json`);
          return gw.gateway.pool.get('modern')!.view();
        },
        { timeout: 20_000, interval: 250 },
      )
      .toMatchObject({ healthy: true, breaker: 'closed', state: 'up' });
    expect((await call(`${gw.url}/openapi.json`)).headers['x-backend']).toBe('modern');
    expect(modern.alive()).toBe(true);
  });
});
