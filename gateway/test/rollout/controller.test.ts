import http from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bucketOf } from '../../src/pipeline/choose.ts';
import { rolloutHandlers } from '../../src/control/rollout/api.ts';
import {
  changeFor,
  type RolloutController as Controller,
  RolloutController,
  type RolloutHost,
  type RolloutRoute,
} from '../../src/control/rollout/controller.ts';
import { LocalLease } from '../../src/control/rollout/lease.ts';
import { type RolloutInput, rolloutSchema } from '../../src/control/rollout/schema.ts';
import { MemoryRolloutStore, type OverrideChange } from '../../src/control/rollout/store.ts';
import { type LocalNumbers, MemoryWindowStore, WindowPublisher } from '../../src/control/rollout/window.ts';
import { bucketIndex } from '../../src/stats.ts';
import { slotsFor } from '../../src/control/compile.ts';
import { BUCKETS } from '../../src/table.ts';

const silent = pino({ level: 'silent' });
const T0 = Date.UTC(2030, 0, 1, 12, 0, 0);

interface Harness {
  clock: { now: number };
  controller: Controller;
  windows: MemoryWindowStore;
  applied: OverrideChange[];
  audits: Array<{ action: string; who: string }>;
  files: Array<{ change: OverrideChange | null; status: { phase: string; step: number } }>;
  route: RolloutRoute;
  store: MemoryRolloutStore;
}

async function harness(input: Partial<RolloutInput>, notifyUrl?: string): Promise<Harness> {
  const clock = { now: T0 };
  const config = rolloutSchema.parse({
    steps: ['shadow', 10, 50, 100],
    interval: '60s',
    minRequests: 100,
    ...input,
    ...(notifyUrl ? { notify: notifyUrl } : {}),
  });
  const route: RolloutRoute = { id: 'subscribers', config, from: 'legacy', to: 'modern', hasShadow: true };
  const applied: OverrideChange[] = [];
  const audits: Harness['audits'] = [];
  const files: Harness['files'] = [];
  const host: RolloutHost = {
    instanceId: 'gw-test',
    logger: silent,
    routes: () => [route],
    audit: async (e) => {
      audits.push(e);
    },
    writeBack: async (_id, change, status) => {
      files.push({ change, status });
    },
  };
  const store = new MemoryRolloutStore(async (_id, change) => {
    applied.push(change);
  });
  const windows = new MemoryWindowStore();
  const controller = new RolloutController({
    host,
    store,
    lease: new LocalLease('gw-test'),
    windows,
    now: () => clock.now,
    loopMs: 0,
    settleMs: 2000,
  });
  await controller.start();
  return { clock, controller, windows, applied, audits, files, route, store };
}

/** Fake fleet numbers: `perSecond` answers per backend for every second of [from, to). */
async function traffic(
  h: Harness,
  fromMs: number,
  toMs: number,
  o: { perSecond?: number; errorsEvery?: number; newMs?: number; compared?: number; mismatched?: number },
) {
  const n = o.perSecond ?? 0;
  const seconds = [];
  let i = 0;
  for (let s = Math.floor(fromMs / 1000); s < Math.ceil(toMs / 1000); s++, i++) {
    const hist = (ms: number) => {
      const out = new Array<number>(bucketIndex(ms) + 1).fill(0);
      out[bucketIndex(ms)] = n;
      return out;
    };
    seconds.push({
      second: s,
      backends: {
        legacy: { requests: n, errors: 0, hist: n ? hist(10) : [] },
        modern: {
          requests: n,
          errors: o.errorsEvery && i % o.errorsEvery === 0 ? n : 0,
          hist: n ? hist(o.newMs ?? 10) : [],
        },
      },
      shadow: { compared: o.compared ?? 0, mismatched: o.mismatched ?? 0, notCompared: 0 },
    });
  }
  await h.windows.add('subscribers', seconds);
}

/** One interval of fake traffic, then the clock moves past the check and the leader ticks. */
async function interval(h: Harness, o: Parameters<typeof traffic>[3]) {
  const state = (await h.store.load('subscribers'))!;
  const w = state.window!;
  await traffic(h, w.to, w.to + 60_000, o);
  h.clock.now = w.to + 60_000 + 2000;
  await h.controller.tick();
}

describe('rollout controller (fake clock, fake metric sources, memory store)', () => {
  let hook: http.Server;
  let hookUrl: string;
  const posted: Array<Record<string, unknown>> = [];

  beforeAll(async () => {
    hook = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c) => {
        body += c;
      });
      req.on('end', () => {
        posted.push({ ...JSON.parse(body), contentType: req.headers['content-type'] });
        res.end('ok');
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`;
  });
  afterAll(() => new Promise<void>((r) => hook.close(() => r())));

  it('a healthy new backend walks shadow → 10 → 50 → promoted, old backend kept as fallback', async () => {
    const h = await harness({}, hookUrl);
    await h.controller.tick();
    expect((await h.store.load('subscribers'))!).toMatchObject({ phase: 'running', value: 'shadow' });
    await interval(h, { compared: 10 });
    await interval(h, { perSecond: 5 });
    await interval(h, { perSecond: 5 });
    const done = (await h.store.load('subscribers'))!;
    expect(done.phase).toBe('promoted');
    expect(h.applied).toEqual([
      { weights: { legacy: 100, modern: 0 }, shadowPaused: false },
      { weights: { legacy: 90, modern: 10 }, shadowPaused: false },
      { weights: { legacy: 50, modern: 50 }, shadowPaused: false },
      { weights: { legacy: 0, modern: 100 }, fallback: 'legacy' },
    ]);
    expect(h.audits.map((a) => a.action)).toEqual([
      'rollout-start',
      'rollout-advance',
      'rollout-advance',
      'rollout-promote',
    ]);
    expect(h.files.at(-1)!.status).toMatchObject({ phase: 'promoted', step: 3 });
    // notifications are fire-and-forget: wait for them to land
    for (let i = 0; i < 100 && posted.length < 4; i++) await new Promise((r) => setTimeout(r, 20));
    expect(posted.map((p) => p.event)).toEqual(['start', 'advance', 'advance', 'promote']);
    expect(posted.at(-1)!.text).toMatch(/promoted: modern serves 100%, legacy kept as fallback/);
    expect(posted[0]!.contentType).toBe('application/json');
    await h.controller.stop();
  });

  it('a faulty new backend (5% of answers 500) is rolled back at the first check that sees it', async () => {
    const h = await harness({ steps: [10, 50, 100], maxFailedChecks: 0 });
    await h.controller.tick();
    await interval(h, { perSecond: 5, errorsEvery: 20 });
    const s = (await h.store.load('subscribers'))!;
    expect(s.phase).toBe('rolled-back');
    expect(s.failure!.gates.find((g) => g.gate === 'successRate')).toMatchObject({
      status: 'fail',
      value: 95,
    });
    expect(h.applied.at(-1)).toEqual({
      weights: { legacy: 100, modern: 0 },
      fallback: null,
      shadowPaused: true,
    });
    expect(h.audits.at(-1)).toMatchObject({ action: 'rollout-rollback', who: 'rollout' });
    // and it stays there: later ticks apply nothing
    const n = h.applied.length;
    h.clock.now += 3_600_000;
    await h.controller.tick();
    expect(h.applied.length).toBe(n);
    await h.controller.stop();
  });

  it('without traffic nothing moves, however long it waits', async () => {
    const h = await harness({ steps: [10, 100] });
    await h.controller.tick();
    for (let i = 0; i < 30; i++) await interval(h, { perSecond: 0 });
    expect((await h.store.load('subscribers'))!).toMatchObject({ phase: 'running', step: 0 });
    expect(h.applied).toHaveLength(1);
    await h.controller.stop();
  });

  it('commands through the handlers: pause holds, skip moves, abort rolls back, errors are answers', async () => {
    const h = await harness({ steps: [10, 50, 100] });
    const api = rolloutHandlers(h.controller);
    await h.controller.tick();
    const paused = await api.command('subscribers', 'pause', { who: 'alice' });
    expect(paused).toMatchObject({ phase: 'paused', reason: 'paused by alice', current: '10% on modern' });
    await interval(h, { perSecond: 50 }).catch(() => {});
    h.clock.now += 600_000;
    await h.controller.tick();
    expect((await api.get('subscribers')).phase).toBe('paused');
    const skipped = await api.command('subscribers', 'skip', { who: 'bob' });
    expect(skipped).toMatchObject({ phase: 'paused', value: 50 });
    expect(h.applied.at(-1)!.weights).toEqual({ legacy: 50, modern: 50 });
    const aborted = await api.command('subscribers', 'abort', { who: 'carol' });
    expect(aborted).toMatchObject({ phase: 'aborted', reason: 'aborted by carol' });
    expect(aborted.timeline.map((e) => `${e.event}:${e.by}`)).toEqual([
      'start:rollout',
      'pause:alice',
      'skip:bob',
      'abort:carol',
    ]);
    await expect(api.command('subscribers', 'pause', { who: 'x' })).rejects.toMatchObject({
      status: 409,
      code: 'ROLLOUT_INVALID_COMMAND',
    });
    await expect(api.command('subscribers', 'explode', { who: 'x' })).rejects.toMatchObject({ status: 404 });
    await expect(api.get('nope')).rejects.toMatchObject({ status: 404, code: 'ROLLOUT_NOT_FOUND' });
    const list = await api.list();
    expect(list.rollouts.map((r) => r.route)).toEqual(['subscribers']);
    await h.controller.stop();
  });

  it('stickiness holds at every raise: a user on the new backend stays there', () => {
    const route = {
      id: 'r',
      config: rolloutSchema.parse({ steps: [1, 5, 25, 50, 100] }),
      from: 'legacy',
      to: 'modern',
      hasShadow: false,
    };
    const keys = Array.from({ length: 5000 }, (_v, i) => `header:user-${i}`);
    const backendOf = (weights: Record<string, number>, key: string) => {
      const bucket = bucketOf(key);
      return slotsFor(weights).find((s) => bucket < s.until)!.backend;
    };
    let onNew = new Set<string>();
    for (const step of [1, 5, 25, 50] as const) {
      const { weights } = changeFor(route, { kind: 'step', step });
      const now = new Set(keys.filter((k) => backendOf(weights, k) === 'modern'));
      for (const k of onNew) expect(now.has(k)).toBe(true);
      // and about the right share moved (buckets are uniform; generous bounds)
      expect(now.size / keys.length).toBeGreaterThan(step / 100 - 0.03);
      expect(now.size / keys.length).toBeLessThan(step / 100 + 0.03);
      onNew = now;
    }
    const promoted = changeFor(route, { kind: 'promote' }).weights;
    expect(keys.every((k) => backendOf(promoted, k) === 'modern')).toBe(true);
    expect(BUCKETS).toBe(10_000);
  });

  it('the publisher turns local recorders into per-second numbers; fail-overs count against the backend left', async () => {
    const windows = new MemoryWindowStore();
    const clock = { now: T0 + 10_500 };
    const sec = Math.floor(clock.now / 1000);
    const totals = { fallbacks: 0, compared: 0, mismatched: 0 };
    const local: LocalNumbers = {
      rows: () => [
        {
          route: 'subscribers',
          backend: 'modern',
          rows: [
            [sec - 2, 4, 1, 0, 0, 4],
            [sec - 1, 6, 0, 0, 6],
            [sec, 9, 9],
          ],
        },
        { route: 'other', backend: 'legacy', rows: [[sec - 1, 100, 0]] },
      ],
      totals: async () => ({
        fallbacks: [{ route: 'subscribers', from: 'modern', count: totals.fallbacks }],
        shadow: [
          { route: 'subscribers', compared: totals.compared, mismatched: totals.mismatched, notCompared: 0 },
        ],
      }),
    };
    const pub = new WindowPublisher({
      local,
      sink: windows,
      routes: () => new Set(['subscribers']),
      now: () => clock.now,
      logger: silent,
    });
    await pub.flush();
    totals.fallbacks = 3;
    totals.compared = 10;
    totals.mismatched = 1;
    await pub.flush(); // the same seconds again: not counted twice
    const w = await windows.read('subscribers', (sec - 5) * 1000, (sec + 1) * 1000);
    expect(w.backends.modern).toMatchObject({ requests: 4 + 6 + 3, errors: 1 + 3 });
    expect(w.backends.modern!.hist).toEqual([0, 6, 4]);
    expect(w.shadow).toEqual({ compared: 10, mismatched: 1, notCompared: 0 });
    // the current second is published once it is over (its 9 answers, plus the 3 fail-overs seen during it)
    clock.now += 1000;
    await pub.flush();
    expect((await windows.read('subscribers', sec * 1000, (sec + 1) * 1000)).backends.modern).toMatchObject({
      requests: 9 + 3,
      errors: 9 + 3,
    });
    // routes not under rollout are not published
    expect((await windows.read('other', 0, (sec + 5) * 1000)).instances).toBe(0);
  });
});
