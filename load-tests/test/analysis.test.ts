import { describe, expect, it } from 'vitest';
import {
  capacityVerdict,
  judgePhase,
  kneeIndex,
  type PhaseResult,
  soakVerdict,
  spikeVerdict,
  type TimelinePoint,
} from '../k6/lib/analysis.js';
import { step } from './helpers.ts';

const slo = { p99Ms: 150, errorRate: 0.01 };
const limits = { generatorLagMs: 50 };

describe('capacity at the SLO', () => {
  it('is the highest offered rate before the first step that broke, with the reasons', () => {
    const phases = [step(0, 100, 10), step(1, 200, 20), step(2, 400, 200), step(3, 800, 900)];
    const v = capacityVerdict(phases, slo, limits);
    expect(v).toMatchObject({
      capacityAtSlo: 200,
      limitedBy: 'slo',
      breach: { rate: 400, reasons: ['p99 200 ms > 150 ms'] },
    });
    expect(v.curve.map((c) => c.ok)).toEqual([true, true, false, false]);
  });

  it('a step that recovers after a break does not raise the capacity (the first break counts)', () => {
    const phases = [step(0, 100, 10), step(1, 200, 300), step(2, 400, 20)];
    expect(capacityVerdict(phases, slo, limits).capacityAtSlo).toBe(100);
  });

  it('breaks on errors over the limit, and on a rate the target did not achieve', () => {
    const errors = capacityVerdict([step(0, 100, 10), step(1, 200, 10, 5)], slo, limits);
    expect(errors.breach!.reasons).toEqual(['errors 1.3% > 1.0%']);
    const behind = { ...step(1, 200, 10), completed: 300, achievedRate: 150 };
    expect(judgePhase(behind, slo, limits).reasons).toEqual(['achieved 150.0/s of 200/s offered']);
  });

  it('says when the generator, not the target, was the limit', () => {
    const late = { ...step(1, 200, 10), generator: { cpuCores: 1, elu: 0.5, lagP90: 120 } };
    const v = capacityVerdict([step(0, 100, 10), late], slo, limits);
    expect(v.limitedBy).toBe('generator');
    expect(v.capacityAtSlo).toBe(100);
    expect(v.summary).toMatch(
      /the load generator, not the target, was the limit at 200\/s: capacity ≥ 100\/s/,
    );
    const busy = { ...step(1, 200, 10), generator: { cpuCores: 1, elu: 0.99, lagP90: 1 } };
    expect(judgePhase(busy, slo, limits)).toMatchObject({ ok: false, generatorLimited: true });
  });

  it('held at every step: capacity at least the highest rate; broke at once: below the first step', () => {
    expect(capacityVerdict([step(0, 100, 10), step(1, 200, 10)], slo, limits)).toMatchObject({
      capacityAtSlo: 200,
      limitedBy: 'max-rate',
    });
    const low = capacityVerdict([step(0, 100, 500)], slo, limits);
    expect(low).toMatchObject({ capacityAtSlo: null, limitedBy: 'slo' });
    expect(low.summary).toMatch(/first step/);
  });
});

describe('the knee', () => {
  it('is where latency turns upward on a hockey-stick curve (geometric steps on a log scale)', () => {
    const points: Array<[number, number]> = [
      [100, 4],
      [160, 4.4],
      [256, 5.2],
      [410, 7.3],
      [655, 12.8],
      [1049, 41.5],
      [1678, 420],
      [2684, 2150],
    ];
    expect(points[kneeIndex(points)!]![0]).toBe(1049);
  });

  it('is absent for a straight line (on the log-rate scale), too few points, or a flat curve', () => {
    expect(
      kneeIndex([
        [10, 1],
        [100, 2],
        [1000, 3],
      ]),
    ).toBeNull();
    expect(
      kneeIndex([
        [1, 1],
        [2, 5],
      ]),
    ).toBeNull();
    expect(
      kneeIndex([
        [1, 5],
        [2, 5],
        [4, 5],
      ]),
    ).toBeNull();
  });
});

function window(i: number, rssMb: Record<string, number>, p99: number): PhaseResult {
  return {
    ...step(i, 50, p99),
    name: `window ${i + 1}`,
    processes: Object.fromEntries(
      Object.entries(rssMb).map(([name, mb]) => [
        name,
        { cpuSeconds: 1, rssAvgBytes: mb * 1048576, rssPeakBytes: mb * 1048576 },
      ]),
    ),
  };
}

describe('soak', () => {
  it('flags a leak when RSS grows beyond the stated bound, and p99 drift beyond its factor', () => {
    const windows = [
      window(0, { modern: 100, cms: 300 }, 10),
      window(1, { modern: 140, cms: 301 }, 12),
      window(2, { modern: 190, cms: 302 }, 25),
    ];
    const v = soakVerdict(windows, { leakBoundMb: 64, maxP99Drift: 2 });
    expect(v.rss).toEqual([
      { name: 'modern', startMb: 100, endMb: 190, growthMb: 90, leak: true },
      { name: 'cms', startMb: 300, endMb: 302, growthMb: 2, leak: false },
    ]);
    expect(v).toMatchObject({ leak: true, p99Drift: 2.5, drifted: true });
    expect(v.summary).toMatch(/^LEAK: RSS grew beyond 64 MB/);
  });

  it('a flat soak is no leak', () => {
    const v = soakVerdict([window(0, { legacy: 80 }, 10), window(1, { legacy: 82 }, 11)], {
      leakBoundMb: 64,
      maxP99Drift: 2,
    });
    expect(v).toMatchObject({ leak: false, drifted: false, p99Drift: 1.1 });
    expect(v.summary).toMatch(/^no leak \(bound 64 MB\)/);
  });
});

describe('spike', () => {
  const phases = [
    { ...step(0, 50, 10), name: 'before', startMs: 0, endMs: 20_000 },
    { ...step(1, 500, 900, 40), name: 'spike', startMs: 20_000, endMs: 30_000 },
    { ...step(2, 50, 10), name: 'after', startMs: 30_000, endMs: 60_000 },
  ];
  const second = (s: number, over: Partial<TimelinePoint> = {}): TimelinePoint => ({
    second: s,
    offered: 50,
    completed: 50,
    requests: 50,
    errors: 0,
    p50: 3,
    p99: 10,
    ...over,
  });

  it('recovery time: from the end of the spike to the first of 3 good seconds in a row', () => {
    const timeline = [
      ...Array.from({ length: 30 }, (_, s) => second(s)),
      second(30, { p99: 800 }),
      second(31, { errors: 2 }),
      second(32, { completed: 10 }), // backlog: fewer completed than offered
      second(33),
      second(34, { p99: 400 }),
      second(35),
      second(36),
      second(37),
      ...Array.from({ length: 22 }, (_, i) => second(38 + i)),
    ];
    const v = spikeVerdict(phases, timeline, slo, 3);
    expect(v).toMatchObject({
      baseRate: 50,
      spikeRate: 500,
      spikeErrors: 40,
      recoverySeconds: 5,
      recoveredAt: 35,
    });
    expect(v.summary).toMatch(/recovered 5 s after the spike/);
  });

  it('says so when the run ends before recovery', () => {
    const timeline = Array.from({ length: 60 }, (_, s) => second(s, s >= 30 ? { p99: 900 } : {}));
    expect(spikeVerdict(phases, timeline, slo, 3)).toMatchObject({ recoverySeconds: null });
  });
});
