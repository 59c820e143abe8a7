import { describe, expect, it } from 'vitest';
import { arrivalOffsetsMs, expectedIterations, runSchedule, solveStageTime } from '../src/pacing.ts';

describe('arrival scheduling (open model)', () => {
  it('spaces a constant arrival rate evenly from t=0', () => {
    expect(arrivalOffsetsMs({ executor: 'constant-arrival-rate', rate: 10, duration: '1s' })).toEqual([
      0, 100, 200, 300, 400, 500, 600, 700, 800, 900,
    ]);
    const offsets = arrivalOffsetsMs({ executor: 'constant-arrival-rate', rate: 300, duration: '20s' });
    expect(offsets).toHaveLength(6000);
    expect(offsets.at(-1)).toBeCloseTo(19_996.667, 2);
    expect(arrivalOffsetsMs({ executor: 'constant-arrival-rate', rate: 3, duration: '500ms' })).toHaveLength(
      2,
    );
  });

  it('places ramping arrivals where the integral of the rate reaches each index', () => {
    // 0 → 10/s over 2 s: N(t) = 2.5·t², so 10 arrivals at t_n = sqrt(n / 2.5).
    const ramp = arrivalOffsetsMs({
      executor: 'ramping-arrival-rate',
      startRate: 0,
      stages: [{ target: 10, duration: '2s' }],
    });
    expect(ramp).toHaveLength(10);
    for (const [n, t] of ramp.entries()) expect(t).toBeCloseTo(Math.sqrt(n / 2.5) * 1000, 6);
    // ramp up, hold, ramp down: count equals the area under the rate curve
    const load = {
      executor: 'ramping-arrival-rate' as const,
      startRate: 5,
      stages: [
        { target: 40, duration: '5s' },
        { target: 40, duration: '15s' },
        { target: 0, duration: '4s' },
      ],
    };
    const offsets = arrivalOffsetsMs(load);
    // 792.5 iterations due → indices 0..792
    expect(offsets).toHaveLength(Math.ceil(((5 + 40) / 2) * 5 + 40 * 15 + (40 / 2) * 4));
    expect(expectedIterations(load)).toBe(offsets.length);
    for (let i = 1; i < offsets.length; i++) expect(offsets[i]!).toBeGreaterThan(offsets[i - 1]!);
    expect(offsets.at(-1)!).toBeLessThanOrEqual(24_000);
    // during the 40/s hold the spacing is 25 ms
    const hold = offsets.filter((t) => t > 6000 && t < 19_000);
    for (let i = 1; i < hold.length; i++) expect(hold[i]! - hold[i - 1]!).toBeCloseTo(25, 6);
  });

  it('solves a decreasing stage inside its bounds', () => {
    // 10 → 0 over 2 s: N(t) = 10t − 2.5t², total 10; N(t)=5 at t = 2 − sqrt(2)
    expect(solveStageTime(10, 0, 2, 5)).toBeCloseTo(2 - Math.sqrt(2), 9);
    expect(solveStageTime(10, 10, 2, 5)).toBeCloseTo(0.5, 9);
    expect(solveStageTime(4, 8, 1, 0)).toBe(0);
  });

  it('fires late arrivals at once, each with its intended time (no coordinated omission)', async () => {
    let clock = 0;
    const fired: Array<[number, number, number]> = [];
    const sleeps: number[] = [];
    await runSchedule([0, 10, 20, 30, 40], 1000, (index, intended) => fired.push([index, intended, clock]), {
      now: () => clock,
      sleep: async (ms) => {
        sleeps.push(ms);
        clock += ms === 0 ? 1 : 35; // the loop oversleeps: a stalled event loop
      },
    });
    expect(fired.map(([i]) => i)).toEqual([0, 1, 2, 3, 4]);
    expect(fired.map(([, intended]) => intended)).toEqual([1000, 1010, 1020, 1030, 1040]);
    // several arrivals fired in one wake-up, after their intended time
    expect(fired.filter(([, intended, at]) => at > intended).length).toBeGreaterThan(1);
  });

  it('stops when aborted', async () => {
    const controller = new AbortController();
    const fired: number[] = [];
    await runSchedule(
      [0, 5, 10_000],
      performance.now(),
      (i) => {
        fired.push(i);
        if (i === 1) controller.abort();
      },
      { signal: controller.signal },
    );
    expect(fired).toEqual([0, 1]);
  });
});

describe('stopping a schedule early (capacity runs past their breaking step)', () => {
  it('fires every arrival before `until`, even late, and none from it on', async () => {
    let clock = 0;
    const fired: number[] = [];
    let until = Number.POSITIVE_INFINITY;
    await runSchedule(
      [0, 100, 200, 300, 400, 500],
      0,
      (i) => {
        fired.push(i);
        if (i === 1) until = 300; // decided while running: stop at 300 ms
      },
      {
        now: () => clock,
        sleep: async () => {
          clock += 250; // wakes late: 200 is due together with 250
        },
        until: () => until,
      },
    );
    expect(fired).toEqual([0, 1, 2]);
  });
});
