/**
 * The migration autopilot end to end, in compressed time (1–2 s intervals), with the REAL legacy
 * and modern apps behind the gateway and client traffic flowing all along. Faults come from a
 * fault-injecting proxy in front of modern (named in the tests that use it).
 */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { RolloutState } from '../../src/control/rollout/engine.ts';
import type { GatewayHandle } from '../../src/index.ts';
import { auth, call, startGateway, TOKEN, tempDir } from '../helpers.ts';
import { type Apps, startApps, Traffic } from './apps.ts';

type View = RolloutState & { timeInStepMs: number | null; current: string };

const TABLE = (apps: Apps, rollout: string) => `
backends:
  legacy: { url: ${apps.legacy}, healthCheck: { enabled: false } }
  modern: { url: ${apps.modernFaulty}, healthCheck: { enabled: false } }
routes:
  - id: articles
    path: /articles*
    backend: legacy
    fallback: legacy
    sticky: [header:x-user-id]
    shadow: { backend: modern }
    rollout:
${rollout}
  - id: default
    path: /*
    backend: legacy
`;

const FAST = { publishMs: 100, settleMs: 700, loopMs: 100, leaseTtlMs: 3000 };

async function status(gw: GatewayHandle, route = 'articles'): Promise<View> {
  const res = await call(`${gw.adminUrl}/admin/rollouts/${route}`, { headers: auth });
  expect(res.status).toBe(200);
  return res.json<View>();
}

async function waitFor(gw: GatewayHandle, what: (v: View) => boolean, maxMs = 60_000): Promise<View> {
  const end = Date.now() + maxMs;
  for (;;) {
    const v = await status(gw);
    if (what(v)) return v;
    if (Date.now() > end)
      throw new Error(`rollout did not get there; it is ${v.phase} at ${v.current}: ${v.reason}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('migration autopilot end to end (real legacy and modern apps)', () => {
  let apps: Apps;
  const cleanups: Array<() => Promise<void>> = [];

  beforeAll(async () => {
    apps = await startApps();
  }, 60_000);
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => {});
    await apps.close();
  }, 30_000);

  async function gateway(rollout: string): Promise<{ gw: GatewayHandle; file: string }> {
    const t = await tempDir();
    cleanups.push(t.cleanup);
    const file = `${t.dir}/routes.yaml`;
    await writeFile(file, TABLE(apps, rollout));
    const gw = await startGateway({ routesFile: file, adminToken: TOKEN, writeBack: true, rollout: FAST });
    cleanups.push(() => gw.close());
    return { gw, file };
  }

  it('a healthy modern goes shadow → 25% → 50% → 100% by itself; no answer lost, shadow changes no answer, users stay put', {
    timeout: 120_000,
  }, async () => {
    apps.faults.every500 = 0;
    apps.faults.delayMs = 0;
    const legacyBody = await (await fetch(`${apps.legacy}/articles`)).text();
    const { gw, file } = await gateway(`      steps: [shadow, 25, 50, 100]
      interval: 1s
      minRequests: 20
      maxFailedChecks: 0
      gates: { successRate: 99, shadowMismatch: 10, p99: { factor: 5, maxMs: 2000 } }`);
    const traffic = new Traffic([gw.url], ['/articles']);
    traffic.start(6);
    let done: View;
    try {
      done = await waitFor(gw, (v) => v.phase !== 'running' && v.phase !== 'pending');
    } finally {
      await traffic.stop();
    }
    expect(done.phase).toBe('promoted');
    expect(done.timeline.map((e) => `${e.event}:${e.value}`)).toEqual([
      'start:shadow',
      'advance:25',
      'advance:50',
      'promote:100',
    ]);
    // the route now serves modern, with legacy kept as fallback
    const route = gw.gateway.route('articles')!;
    expect(route.weights).toEqual({ legacy: 0, modern: 100 });
    expect(route.fallback).toBe('legacy');
    expect((await call(`${gw.url}/articles`)).headers['x-backend']).toBe('modern');

    // zero client requests lost at any transition
    const bad = traffic.answers.filter((a) => a.status !== 200);
    expect(bad).toEqual([]);
    expect(traffic.answers.length).toBeGreaterThan(100);

    // the mirrored-only step never changed a client's answer: legacy answered, byte for byte
    const firstRaise = done.timeline[1]!.at;
    // answered before the first raise was decided, so routed before it was applied (a request
    // sent before it could be held past it on a loaded machine)
    const shadowStep = traffic.answers.filter((a) => a.doneAt < firstRaise);
    expect(shadowStep.length).toBeGreaterThan(20);
    for (const a of shadowStep) {
      expect(a.backend).toBe('legacy');
      expect(a.body).toBe(legacyBody);
    }

    // stickiness under rollout: once on modern, a user stays on modern
    const promotedAt = done.timeline[3]!.at;
    const byUser = new Map<string, string[]>();
    for (const a of traffic.answers.filter((x) => x.at < promotedAt - 50).sort((x, y) => x.at - y.at)) {
      byUser.set(a.user, [...(byUser.get(a.user) ?? []), a.backend]);
    }
    let movedUsers = 0;
    for (const sides of byUser.values()) {
      const first = sides.indexOf('modern');
      if (first === -1) continue;
      movedUsers++;
      expect(sides.slice(first).every((s) => s === 'modern')).toBe(true);
    }
    expect(movedUsers).toBeGreaterThan(10);

    // the table file records the outcome
    const { readFile } = await import('node:fs/promises');
    // written back after the promotion is applied, so it may land a moment after the state says so
    await vi.waitFor(
      async () => expect(await readFile(file, 'utf8')).toMatch(/status: \{ phase: promoted, step: 3/),
      {
        timeout: 10_000,
        interval: 100,
      },
    );
    expect(await readFile(file, 'utf8')).toMatch(/split: \{ legacy: 0, modern: 100 \}/);

    // every transition is in the audit log
    const audit = await call(`${gw.adminUrl}/admin/audit?limit=100`, { headers: auth });
    const actions = audit
      .json<{ entries: Array<{ action: string }> }>()
      .entries.map((e) => e.action)
      .filter((a) => a.startsWith('rollout-') && a !== 'rollout-apply');
    expect(actions.reverse()).toEqual([
      'rollout-start',
      'rollout-advance',
      'rollout-advance',
      'rollout-promote',
    ]);
  });

  it('a modern with 5% of answers 500 (fault-injecting proxy) is rolled back within one interval of the gate breaking; clients see no error', {
    timeout: 120_000,
  }, async () => {
    apps.faults.every500 = 0;
    apps.faults.delayMs = 0;
    const { gw } = await gateway(`      steps: [25, 50, 75, 100]
      interval: 2s
      minRequests: 40
      maxFailedChecks: 0
      gates: { successRate: 99 }`);
    const traffic = new Traffic([gw.url], ['/articles']);
    traffic.start(8);
    try {
      await waitFor(gw, (v) => v.phase === 'running' && v.value === 50);
      const injectedFrom = Date.now();
      apps.faults.every500 = 20;
      const done = await waitFor(gw, (v) => v.phase !== 'running');
      expect(done.phase).toBe('rolled-back');
      const failure = done.failure!;
      const gate = failure.gates.find((g) => g.gate === 'successRate')!;
      expect(gate.status).toBe('fail');
      expect(gate.value!).toBeLessThan(99);
      // the window that failed is the first one with faults in it, and the decision came within
      // one interval of that window closing
      expect(failure.to).toBeGreaterThan(injectedFrom);
      const rolledBackAt = done.timeline.at(-1)!.at;
      expect(done.timeline.at(-1)!.event).toBe('rollback');
      expect(rolledBackAt - failure.to).toBeLessThanOrEqual(2000);
      // every check before it passed (the rollback came at the first failed one)
      expect(done.timeline.filter((e) => e.event === 'check-failed')).toEqual([]);
      // all traffic back on legacy, shadow paused
      const route = gw.gateway.route('articles')!;
      expect(route.weights).toEqual({ legacy: 100, modern: 0 });
      expect(route.shadow!.paused).toBe(true);
      apps.faults.every500 = 0;
    } finally {
      apps.faults.every500 = 0;
      await traffic.stop();
    }
    expect(apps.counts.injected500).toBeGreaterThan(0);
    // modern's failures fell back to legacy: no client saw one, none was lost
    expect(traffic.answers.filter((a) => a.status !== 200)).toEqual([]);
  });

  it('a modern 200 ms slower (fault-injecting proxy) is rolled back on the p99 gate', {
    timeout: 120_000,
  }, async () => {
    apps.faults.every500 = 0;
    apps.faults.delayMs = 0;
    const { gw } = await gateway(`      steps: [25, 50, 100]
      interval: 2s
      minRequests: 20
      maxFailedChecks: 0
      gates: { successRate: 99, p99: { factor: 4, maxMs: 150 } }`);
    const traffic = new Traffic([gw.url], ['/articles']);
    traffic.start(8);
    try {
      await waitFor(gw, (v) => v.phase === 'running' && v.value === 25);
      apps.faults.delayMs = 200;
      const done = await waitFor(gw, (v) => v.phase !== 'running');
      expect(done.phase).toBe('rolled-back');
      const p99 = done.failure!.gates.find((g) => g.gate === 'p99')!;
      expect(p99.status).toBe('fail');
      expect(p99.value!).toBeGreaterThan(150);
    } finally {
      apps.faults.delayMs = 0;
      await traffic.stop();
    }
    expect(traffic.answers.filter((a) => a.status !== 200)).toEqual([]);
  });

  it('without Redis, a restart resumes at the step the table file records', {
    timeout: 120_000,
  }, async () => {
    const { gw, file } = await gateway(`      steps: [25, 50, 100]
      interval: 1s
      minRequests: 20`);
    const traffic = new Traffic([gw.url], ['/articles']);
    traffic.start(4);
    try {
      await waitFor(gw, (v) => v.value === 50);
      await gw.rollouts.handlers.command('articles', 'pause', { who: 'erin' });
    } finally {
      await traffic.stop();
    }
    await gw.close();
    const { readFile } = await import('node:fs/promises');
    expect(await readFile(file, 'utf8')).toMatch(/status: \{ phase: paused, step: 1/);
    const again = await startGateway({ routesFile: file, adminToken: TOKEN, writeBack: true, rollout: FAST });
    cleanups.push(() => again.close());
    const resumed = await waitFor(again, (v) => v.version > 0);
    expect(resumed).toMatchObject({ phase: 'paused', step: 1, value: 50 });
    expect(again.gateway.route('articles')!.weights).toEqual({ legacy: 50, modern: 50 });
  });

  it('people steer it: ./pilot rollout status/pause/resume/abort against the admin API', {
    timeout: 60_000,
  }, async () => {
    const { gw } = await gateway(`      steps: [25, 100]
      interval: 1s
      minRequests: 1000000`);
    const cli = fileURLToPath(new URL('../../bin/rollout.ts', import.meta.url));
    const run = (...args: string[]) =>
      promisify(execFile)(process.execPath, [cli, ...args], {
        env: {
          ...process.env,
          GATEWAY_ADMIN_TOKEN: TOKEN,
          GATEWAY_ADMIN_URL: gw.adminUrl,
          GATEWAY_ADMIN_USER: 'dana',
        },
      });
    // a check has run (and waits: a million answers are far off)
    await waitFor(gw, (v) => v.phase === 'running' && v.lastCheck !== null);
    const s = await run('status', 'articles');
    expect(s.stdout).toMatch(/articles {2}legacy → modern {2}RUNNING step 1\/2: 25% on modern/);
    expect(s.stdout).toMatch(/traffic \d+ requests \(needs >= 1000000 requests\) no data/);
    await run('pause', 'articles');
    expect((await status(gw)).phase).toBe('paused');
    const resumed = JSON.parse((await run('resume', 'articles', '--json')).stdout) as View;
    expect(resumed.phase).toBe('running');
    await run('abort', 'articles');
    const aborted = await status(gw);
    expect(aborted).toMatchObject({ phase: 'aborted', reason: 'aborted by dana' });
    expect(gw.gateway.route('articles')!.weights).toEqual({ legacy: 100, modern: 0 });
    const refused = await run('pause', 'articles').catch((e: { code: number; stderr: string }) => e);
    expect(refused).toMatchObject({ code: 1 });
    expect((refused as { stderr: string }).stderr).toMatch(/409 ROLLOUT_INVALID_COMMAND/);
    const noToken = await call(`${gw.adminUrl}/admin/rollouts`);
    expect(noToken.status).toBe(401);
  });
});
