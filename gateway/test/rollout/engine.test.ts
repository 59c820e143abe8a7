import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  COMMANDS,
  check,
  command,
  dueWindow,
  initialState,
  reconcileConfig,
  RolloutCommandError,
  type RolloutState,
  stateFromStatus,
  type Transition,
} from '../../src/control/rollout/engine.ts';
import { emptyWindow, type WindowNumbers } from '../../src/control/rollout/gates.ts';
import { type RolloutConfig, type RolloutInput, rolloutSchema } from '../../src/control/rollout/schema.ts';
import { bucketIndex } from '../../src/stats.ts';

const T0 = Date.UTC(2030, 0, 1, 12, 0, 0);
const SETTLE = 2000;

function cfg(input: Partial<RolloutInput> = {}): RolloutConfig {
  return rolloutSchema.parse({
    steps: ['shadow', 1, 5, 25, 50, 100],
    interval: '60s',
    minRequests: 100,
    ...input,
  });
}

/** Numbers for one window: `n` answers per backend, `errors` of the new backend's failed, at `ms` each. */
function numbers(o: {
  n?: number;
  errors?: number;
  newMs?: number;
  oldMs?: number;
  compared?: number;
  mismatched?: number;
  notCompared?: number;
}): WindowNumbers {
  const w = emptyWindow();
  const n = o.n ?? 0;
  const hist = (ms: number, count: number) => {
    const h: number[] = [];
    h[bucketIndex(ms)] = count;
    return Array.from(h, (v) => v ?? 0);
  };
  w.new = { requests: n, errors: o.errors ?? 0, hist: n ? hist(o.newMs ?? 10, n) : [] };
  w.old = { requests: n, errors: 0, hist: n ? hist(o.oldMs ?? 10, n) : [] };
  w.shadow = { compared: o.compared ?? 0, mismatched: o.mismatched ?? 0, notCompared: o.notCompared ?? 0 };
  return w;
}

/** A fake clock driving the engine: advances to the next due check and feeds it `read`. */
class Driver {
  now = T0;
  state: RolloutState;
  applied: Transition['apply'][] = [];
  readonly config: RolloutConfig;
  constructor(config: RolloutConfig) {
    this.config = config;
    this.state = this.take(initialState('subscribers', config, this.now));
  }
  take(t: Transition): RolloutState {
    if (t.apply) this.applied.push(t.apply);
    this.state = t.state;
    return t.state;
  }
  /** Moves the clock until a check is due and runs it with `read`. */
  tick(read: WindowNumbers): Transition {
    let range = dueWindow(this.state, this.config, this.now, SETTLE);
    let guard = 0;
    while (!range) {
      this.now += 250;
      range = dueWindow(this.state, this.config, this.now, SETTLE);
      if (++guard > 10_000) throw new Error(`no check due in phase ${this.state.phase}`);
    }
    const t = check(this.state, this.config, range, read, this.now);
    this.take(t);
    return t;
  }
  cmd(c: Parameters<typeof command>[2], by = 'alice'): Transition {
    const t = command(this.state, this.config, c, this.now, by);
    this.take(t);
    return t;
  }
}

describe('rollout engine (fake clock)', () => {
  it('passing intervals walk every step and the last one promotes', () => {
    const d = new Driver(cfg());
    expect(d.state).toMatchObject({ phase: 'running', step: 0, value: 'shadow' });
    expect(d.applied).toEqual([{ kind: 'step', step: 'shadow' }]);
    d.tick(numbers({ compared: 500, mismatched: 0 }));
    expect(d.state).toMatchObject({ phase: 'running', step: 1, value: 1 });
    for (const expected of [5, 25, 50]) {
      d.tick(numbers({ n: 200 }));
      expect(d.state.value).toBe(expected);
    }
    const last = d.tick(numbers({ n: 200 }));
    expect(d.state).toMatchObject({ phase: 'promoted', step: 5, value: 100 });
    expect(last.apply).toEqual({ kind: 'promote' });
    expect(d.applied).toEqual([
      { kind: 'step', step: 'shadow' },
      { kind: 'step', step: 1 },
      { kind: 'step', step: 5 },
      { kind: 'step', step: 25 },
      { kind: 'step', step: 50 },
      { kind: 'promote' },
    ]);
    expect(d.state.timeline.map((e) => e.event)).toEqual([
      'start',
      'advance',
      'advance',
      'advance',
      'advance',
      'promote',
    ]);
    // nothing more happens once promoted
    expect(dueWindow(d.state, d.config, d.now + 3_600_000, SETTLE)).toBeNull();
  });

  it('a check is due one interval after the window opened (plus the settle time), not before', () => {
    const d = new Driver(cfg({ interval: '2m' }));
    const opened = d.state.window!.from;
    expect(opened % 1000).toBe(0);
    expect(dueWindow(d.state, d.config, opened + 120_000 + SETTLE - 1, SETTLE)).toBeNull();
    expect(dueWindow(d.state, d.config, opened + 120_000 + SETTLE, SETTLE)).toEqual({
      from: opened,
      to: opened + 120_000,
    });
  });

  it('a step with too little traffic waits, never passes on no data, and its window grows', () => {
    const d = new Driver(cfg({ steps: [10, 100] }));
    const from = d.state.window!.from;
    for (let i = 0; i < 5; i++) {
      const t = d.tick(numbers({ n: 0 }));
      expect(t.apply).toBeNull();
      expect(d.state).toMatchObject({ phase: 'running', step: 0, failedChecks: 0 });
      expect(d.state.lastCheck!.verdict).toBe('wait');
    }
    // 60 + 30 answers over two more intervals: enough only together
    d.tick(numbers({ n: 60 }));
    expect(d.state.step).toBe(0);
    d.tick(numbers({ n: 40 }));
    expect(d.state.phase).toBe('promoted');
    const decided = d.state.timeline.at(-1)!;
    expect(decided.event).toBe('promote');
    // the deciding check covered the whole grown window
    expect(d.state.lastCheck).toMatchObject({ from, to: from + 7 * 60_000, verdict: 'pass' });
  });

  it('a gate without data (old p99 unknown) waits instead of passing', () => {
    const d = new Driver(cfg({ steps: [10, 100], gates: { p99: { factor: 1.5 } } }));
    const w = numbers({ n: 200 });
    w.old = { requests: 20, errors: 0, hist: w.old.hist.map((c) => (c ? 20 : 0)) };
    d.tick(w);
    expect(d.state.step).toBe(0);
    expect(d.state.lastCheck!.gates.find((g) => g.gate === 'p99')).toMatchObject({ status: 'no-data' });
  });

  it('failing checks beyond maxFailedChecks roll back at once, recording gate, values and window', () => {
    const d = new Driver(cfg({ steps: [5, 25, 100], maxFailedChecks: 1 }));
    d.tick(numbers({ n: 200 }));
    expect(d.state.value).toBe(25);
    const first = d.tick(numbers({ n: 200, errors: 10 }));
    expect(first.apply).toBeNull();
    expect(first.event).toMatchObject({ event: 'check-failed' });
    expect(d.state).toMatchObject({ phase: 'running', step: 1, failedChecks: 1 });
    const second = d.tick(numbers({ n: 200, errors: 12 }));
    expect(second.apply).toEqual({ kind: 'rollback' });
    expect(d.state.phase).toBe('rolled-back');
    const failure = d.state.failure!;
    expect(failure.verdict).toBe('fail');
    expect(failure.to - failure.from).toBe(60_000);
    expect(failure.gates.find((g) => g.gate === 'successRate')).toMatchObject({
      status: 'fail',
      value: 94,
      threshold: 99,
      op: '>=',
    });
    expect(d.state.reason).toMatch(/successRate 94%/);
    expect(dueWindow(d.state, d.config, d.now + 3_600_000, SETTLE)).toBeNull();
  });

  it('maxFailedChecks 0 rolls back on the first failed check (latency over the old backend)', () => {
    const d = new Driver(
      cfg({ steps: [10, 100], maxFailedChecks: 0, gates: { p99: { factor: 1.5, maxMs: 500 } } }),
    );
    d.tick(numbers({ n: 200, newMs: 250, oldMs: 40 }));
    expect(d.state.phase).toBe('rolled-back');
    const p99 = d.state.failure!.gates.find((g) => g.gate === 'p99')!;
    expect(p99.status).toBe('fail');
    expect(p99.value!).toBeGreaterThan(200);
    expect(p99.threshold!).toBeLessThan(70);
  });

  it('the shadow step is judged on the Wilson upper bound of compared answers only', () => {
    const d = new Driver(cfg({ steps: ['shadow', 100], maxFailedChecks: 0, gates: { shadowMismatch: 1 } }));
    // 1 in 150 differ: 0.67% observed, but the 95% upper end is ~3.7%: not proven yet → the step waits
    d.tick(numbers({ compared: 150, mismatched: 1, notCompared: 5000 }));
    expect(d.state).toMatchObject({ phase: 'running', step: 0 });
    const waiting = d.state.lastCheck!.gates.find((g) => g.gate === 'shadowMismatch')!;
    expect(waiting.status).toBe('inconclusive');
    expect(waiting.value!).toBeGreaterThan(3);
    expect(waiting.value!).toBeLessThan(4.5);
    // 3000 more, none differing: 1 in 3150, upper end ~0.18% → passes
    d.tick(numbers({ compared: 3000, mismatched: 0 }));
    expect(d.state.phase).toBe('promoted');

    const bad = new Driver(cfg({ steps: ['shadow', 100], maxFailedChecks: 0, gates: { shadowMismatch: 1 } }));
    // thousands of not-compared answers count for nothing: still too few compared → wait
    bad.tick(numbers({ compared: 50, notCompared: 10_000 }));
    expect(bad.state).toMatchObject({ phase: 'running', step: 0 });
    // 3 in 150 observed (2%) is over the limit: fail
    bad.tick(numbers({ compared: 100, mismatched: 3 }));
    expect(bad.state.phase).toBe('rolled-back');
    expect(bad.state.failure!.gates.find((g) => g.gate === 'shadowMismatch')!.status).toBe('fail');
  });

  it('pause stops checks, resume re-applies the step and opens a fresh window', () => {
    const d = new Driver(cfg({ steps: [10, 50, 100] }));
    d.now += 5000;
    d.cmd('pause');
    expect(d.state).toMatchObject({ phase: 'paused', reason: 'paused by alice' });
    expect(dueWindow(d.state, d.config, d.now + 3_600_000, SETTLE)).toBeNull();
    d.now += 600_000;
    const resumed = d.cmd('resume', 'bob');
    expect(resumed.apply).toEqual({ kind: 'step', step: 10 });
    expect(d.state.window!.from).toBeGreaterThanOrEqual(d.now);
    d.tick(numbers({ n: 200 }));
    expect(d.state.value).toBe(50);
  });

  it('skip moves on now; abort rolls back; restart begins again at step 0', () => {
    const d = new Driver(cfg({ steps: [10, 50, 100] }));
    expect(d.cmd('skip').apply).toEqual({ kind: 'step', step: 50 });
    expect(d.state.timeline.at(-1)).toMatchObject({ event: 'skip', by: 'alice', value: 50 });
    expect(d.cmd('abort').apply).toEqual({ kind: 'rollback' });
    expect(d.state).toMatchObject({ phase: 'aborted', reason: 'aborted by alice' });
    expect(() => d.cmd('pause')).toThrow(RolloutCommandError);
    expect(() => d.cmd('abort')).toThrow(/cannot abort a rollout that is aborted/);
    expect(d.cmd('restart').apply).toEqual({ kind: 'step', step: 10 });
    expect(d.state).toMatchObject({ phase: 'running', step: 0, failedChecks: 0, failure: null });
    // skipping the next-to-last step promotes
    d.cmd('skip');
    expect(d.cmd('skip').apply).toEqual({ kind: 'promote' });
    expect(d.state.phase).toBe('promoted');
  });

  it('start: manual waits in pending until a resume', () => {
    const d = new Driver(cfg({ steps: [10, 100], start: 'manual' }));
    expect(d.state.phase).toBe('pending');
    expect(d.applied).toEqual([]);
    expect(dueWindow(d.state, d.config, d.now + 3_600_000, SETTLE)).toBeNull();
    expect(() => d.cmd('skip')).toThrow(/resume starts it/);
    expect(d.cmd('resume').apply).toEqual({ kind: 'step', step: 10 });
    expect(d.state.phase).toBe('running');
  });

  it('every transition bumps the version exactly once', () => {
    const d = new Driver(cfg({ steps: [10, 100] }));
    const v = d.state.version;
    d.tick(numbers({ n: 1 }));
    expect(d.state.version).toBe(v + 1);
    d.cmd('pause');
    expect(d.state.version).toBe(v + 2);
  });

  it('a changed steps list keeps the current step by value, or pauses when it is gone', () => {
    const d = new Driver(cfg({ steps: [10, 50, 100] }));
    d.tick(numbers({ n: 200 }));
    expect(d.state.value).toBe(50);
    const kept = reconcileConfig(d.state, cfg({ steps: [5, 50, 75, 100] }), d.now)!;
    expect(kept.state).toMatchObject({ phase: 'running', step: 1, value: 50 });
    expect(kept.apply).toBeNull();
    const gone = reconcileConfig(d.state, cfg({ steps: [10, 40, 60, 100] }), d.now)!;
    expect(gone.state).toMatchObject({ phase: 'paused', step: 1, value: 40 });
    expect(gone.state.reason).toMatch(/steps changed/);
    expect(reconcileConfig(d.state, d.config, d.now)).toBeNull();
    // the gateway's own `status` record is not a change
    expect(
      reconcileConfig(d.state, { ...d.config, status: { phase: 'running', step: 1 } }, d.now),
    ).toBeNull();
  });

  it('the file `status` record restores an active rollout at its step (no Redis)', () => {
    const c = cfg({ steps: [10, 50, 100] });
    const t = stateFromStatus('subscribers', c, { phase: 'running', step: 1 }, T0);
    expect(t.state).toMatchObject({ phase: 'running', step: 1, value: 50 });
    expect(t.apply).toEqual({ kind: 'step', step: 50 });
    const done = stateFromStatus('subscribers', c, { phase: 'promoted', step: 2 }, T0);
    expect(done.state.phase).toBe('promoted');
    expect(done.apply).toBeNull();
  });
});

describe('rollout engine under generated sequences', () => {
  it('any mix of checks and commands keeps the state coherent (generated input)', () => {
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('check' as const),
        n: fc.nat(400),
        errors: fc.nat(40),
        compared: fc.nat(2000),
        mismatched: fc.nat(50),
        newMs: fc.integer({ min: 1, max: 2000 }),
      }),
      fc.record({
        kind: fc.constant('cmd' as const),
        cmd: fc.constantFrom(...COMMANDS),
        dt: fc.nat(120_000),
      }),
    );
    fc.assert(
      fc.property(
        fc.constantFrom<RolloutInput['steps']>(
          ['shadow', 1, 5, 25, 50, 100],
          [10, 100],
          [100],
          ['shadow', 100],
        ),
        fc.nat(3),
        fc.array(op, { maxLength: 40 }),
        (steps, maxFailedChecks, ops) => {
          const config = cfg({ steps, maxFailedChecks, gates: { p99: { factor: 2 } } });
          const d = new Driver(config);
          for (const o of ops) {
            const before = d.state;
            let t: Transition | null = null;
            if (o.kind === 'check') {
              if (d.state.phase !== 'running') continue;
              const w = numbers({ n: o.n, errors: Math.min(o.errors, o.n), newMs: o.newMs });
              w.shadow = {
                compared: o.compared,
                mismatched: Math.min(o.mismatched, o.compared),
                notCompared: 0,
              };
              t = d.tick(w);
            } else {
              d.now += o.dt;
              try {
                t = d.cmd(o.cmd);
              } catch (error) {
                expect(error).toBeInstanceOf(RolloutCommandError);
                expect(d.state).toBe(before);
                continue;
              }
            }
            const s = t.state;
            expect(s.version).toBe(before.version + 1);
            expect(s.step).toBeGreaterThanOrEqual(s.phase === 'pending' ? -1 : 0);
            expect(s.step).toBeLessThan(config.steps.length);
            if (s.step >= 0) expect(s.value).toBe(config.steps[s.step]);
            if (s.phase === 'promoted') {
              expect(s.value).toBe(100);
              expect(s.window).toBeNull();
            }
            if (s.phase === 'rolled-back') expect(s.failure?.verdict).toBe('fail');
            if (s.phase === 'running') expect(s.window).not.toBeNull();
            expect(s.failedChecks).toBeLessThanOrEqual(config.maxFailedChecks + 1);
            // only a move to another step, a promotion, a rollback, an abort or a resume applies anything
            if (t.apply) expect(t.event).not.toBeNull();
            if (t.apply?.kind === 'rollback') expect(['rolled-back', 'aborted']).toContain(s.phase);
            if (t.apply?.kind === 'promote') expect(s.phase).toBe('promoted');
            expect(s.timeline.length).toBeLessThanOrEqual(100);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
