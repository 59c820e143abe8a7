/**
 * Two gateways on one (real) Redis in front of the real apps: one drives the rollout, the gates
 * use the numbers of both, and when the driver dies the other takes over at the same step.
 */
import { writeFile } from 'node:fs/promises';
import { type TestRedis, useTestRedis } from '@pilot/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RolloutState } from '../../src/control/rollout/engine.ts';
import type { GatewayHandle } from '../../src/index.ts';
import { auth, call, startGateway, TOKEN, tempDir } from '../helpers.ts';
import { type Apps, startApps, Traffic } from './apps.ts';

const TTL = 3000;

describe('two gateways, one Redis: one drives, the other takes over (real Redis, real apps)', () => {
  let redis: TestRedis;
  let apps: Apps;
  const gws: GatewayHandle[] = [];
  const cleanups: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    redis = await useTestRedis('rollout-failover');
    apps = await startApps();
    for (const id of ['gw-a', 'gw-b']) {
      const t = await tempDir();
      cleanups.push(t.cleanup);
      const file = `${t.dir}/routes.yaml`;
      await writeFile(
        file,
        `backends:
  legacy: { url: ${apps.legacy}, healthCheck: { enabled: false } }
  modern: { url: ${apps.modern}, healthCheck: { enabled: false } }
routes:
  - id: articles
    path: /articles*
    split: { legacy: 100, modern: 0 }
    sticky: [header:x-user-id]
    rollout:
      steps: [25, 50, 75, 100]
      interval: 1s
      minRequests: 20
`,
      );
      gws.push(
        await startGateway({
          routesFile: file,
          adminToken: TOKEN,
          redisUrl: redis.url,
          redisPrefix: redis.prefix,
          instanceId: id,
          writeBack: false,
          rollout: { publishMs: 100, settleMs: 700, loopMs: 100, leaseTtlMs: TTL },
        }),
      );
    }
  }, 60_000);

  afterAll(async () => {
    for (const g of gws) await g.close().catch(() => {});
    for (const c of cleanups) await c();
    await apps.close();
    await redis.cleanup();
  }, 30_000);

  it('numbers from every instance count; a killed driver is replaced within a lease period and no step is applied twice', {
    timeout: 120_000,
  }, async () => {
    const leading = () => gws.filter((g) => g.rollouts.controller.lease.current() !== null);
    const until = async <T>(
      what: () => Promise<T | undefined> | T | undefined,
      maxMs = 30_000,
    ): Promise<T> => {
      const end = Date.now() + maxMs;
      for (;;) {
        const v = await what();
        if (v !== undefined) return v;
        if (Date.now() > end) throw new Error('timed out');
        await new Promise((r) => setTimeout(r, 25));
      }
    };
    const driver = await until(() => (leading().length === 1 ? leading()[0] : undefined));
    const other = gws.find((g) => g !== driver)!;
    const state = async (g: GatewayHandle) =>
      (await call(`${g.adminUrl}/admin/rollouts/articles`, { headers: auth })).json<RolloutState>();

    // clients reach only the instance that does NOT drive: the driver advances on its numbers
    const traffic = new Traffic([other.url], ['/articles']);
    traffic.start(6);
    try {
      await until(async () => ((await state(other)).value === 50 ? true : undefined));
      expect(driver.gateway.metrics.rawWindows(60).filter((r) => r.raw.seconds.length > 0)).toEqual([]);

      // the driver dies without handing the lease on
      const killedAt = Date.now();
      await driver.rollouts.stop({ release: false });
      await driver.close();
      const atKill = await state(other);
      const tookOverAt = await until(() =>
        other.rollouts.controller.lease.current() ? Date.now() : undefined,
      );
      // lease time to live, plus one acquire attempt (every ttl/4), plus slack for a loaded machine
      expect(tookOverAt - killedAt).toBeLessThanOrEqual(TTL + TTL / 4 + 1000);
      // The new driver goes on from the step it found, not from the start; on a slow machine it
      // may already have taken the next step by the time we ask (the timeline below proves that
      // no step was applied twice).
      const afterTakeover = await state(other);
      expect(afterTakeover.step - atKill.step).toBeGreaterThanOrEqual(0);
      expect(afterTakeover.step - atKill.step).toBeLessThanOrEqual(1);

      const done = await until(async () => {
        const s = await state(other);
        return s.phase === 'running' ? undefined : s;
      });
      expect(done.phase).toBe('promoted');
      // every step once, in order, across both drivers
      expect(done.timeline.map((e) => `${e.event}:${e.value}`)).toEqual([
        'start:25',
        'advance:50',
        'advance:75',
        'promote:100',
      ]);
      const audit = (await call(`${other.adminUrl}/admin/audit?limit=200`, { headers: auth })).json<{
        entries: Array<{ action: string; instance: string; detail: { value: unknown } }>;
      }>();
      const steps = audit.entries
        .filter((e) => ['rollout-start', 'rollout-advance', 'rollout-promote'].includes(e.action))
        .reverse();
      expect(steps.map((e) => e.detail.value)).toEqual([25, 50, 75, 100]);
      expect(steps.at(-1)!.instance).toBe(other.gateway.instanceId);
      expect(steps[0]!.instance).toBe(driver.gateway.instanceId);
      expect(other.gateway.route('articles')!.weights).toEqual({ legacy: 0, modern: 100 });
    } finally {
      await traffic.stop();
    }
    // the surviving instance lost no client request, through every transition and the takeover
    expect(traffic.answers.filter((a) => a.status !== 200)).toEqual([]);
  });
});
