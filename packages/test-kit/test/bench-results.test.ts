import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import {
  printTargets,
  BENCH_RESULTS_FORMAT,
  benchResultsFile,
  benchTarget,
  medianInterval,
  pinnableCores,
  procCpuSeconds,
  readBenchReports,
  repoRoot,
  writeBenchReport,
} from '../src/bench-results.ts';

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-results-'));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** P(Binomial(n, 1/2) <= j), summed term by term with exact binomial coefficients. */
function binomialBelow(n: number, j: number): number {
  let total = 0n;
  let c = 1n;
  for (let i = 0; i <= j; i++) {
    total += c;
    c = (c * BigInt(n - i)) / BigInt(i + 1);
  }
  return Number(total) / 2 ** n;
}

describe('medianInterval', () => {
  it('gives the textbook ranks: 8th and 18th of 25 at 95 %, the whole range of 5', () => {
    const xs = Array.from({ length: 25 }, (_, i) => 25 - i); // unsorted on purpose
    expect(medianInterval(xs)).toEqual({ median: 13, low: 8, high: 18, coverage: expect.closeTo(0.9567, 4) });
    expect(medianInterval([5, 1, 4, 2, 3])).toEqual({ median: 3, low: 1, high: 5, coverage: 0.9375 });
    expect(medianInterval([2, 1])).toEqual({ median: 1.5, low: 1, high: 2, coverage: 0.5 });
    expect(medianInterval([])).toBeUndefined();
  });

  it('is the narrowest order-statistic interval that keeps the confidence, for any values', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 60 }),
        fc.constantFrom(0.8, 0.9, 0.95, 0.99),
        (values, confidence) => {
          const got = medianInterval(values, confidence)!;
          const sorted = [...values].sort((a, b) => a - b);
          const n = sorted.length;
          // the widest rank k kept: every narrower pair (k + 1) would fall under the confidence
          const coverageAt = (k: number) => 1 - 2 * binomialBelow(n, k - 1);
          let k = 1;
          for (let r = 2; r <= Math.floor((n + 1) / 2); r++) if (coverageAt(r) >= confidence) k = r;
          expect(got.low).toBe(sorted[k - 1]);
          expect(got.high).toBe(sorted[n - k]);
          expect(got.coverage).toBeCloseTo(coverageAt(k), 10);
          expect(got.low).toBeLessThanOrEqual(got.median);
          expect(got.median).toBeLessThanOrEqual(got.high);
          if (k > 1) expect(got.coverage).toBeGreaterThanOrEqual(confidence);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('bench results', () => {
  it('works out whether a target is met, in either direction; an unmeasured value never is', () => {
    expect(benchTarget('a', 0.7, '>=', 0.7, 'x / y').met).toBe(true);
    expect(benchTarget('a', 0.69, '>=', 0.7, 'x / y').met).toBe(false);
    expect(benchTarget('b', 1.0, '<=', 1.0, 'x / y').met).toBe(true);
    expect(benchTarget('b', 1.01, '<=', 1.0, 'x / y').met).toBe(false);
    expect(benchTarget('c', null, '>=', 1, 'x / y', 'no Redis').met).toBe(false);
    expect(benchTarget('c', Number.NaN, '<=', 1, 'x / y').met).toBe(false);
    expect(benchTarget('c', null, '>=', 1, 'x / y', 'no Redis')).toMatchObject({ note: 'no Redis' });
  });

  it('prints each target as met or MISS with its value and bound', () => {
    const lines: string[] = [];
    printTargets(
      [benchTarget('a', 0.5, '<=', 1, 'x / y'), benchTarget('b', null, '>=', 2, 'x / y')],
      (line) => lines.push(line),
    );
    expect(lines).toEqual(['met  a: 0.5 (<= 1)', 'MISS b: null (>= 2)']);
  });

  it('names one file per package', () => {
    expect(benchResultsFile('@pilot/modern')).toBe('pilot-modern.json');
    expect(benchResultsFile('@pilot/strapi-client')).toBe('pilot-strapi-client.json');
  });

  it('writes a report with date and machine, and reads it back', () => {
    const dir = tempDir();
    const file = writeBenchReport(
      {
        package: '@pilot/example',
        results: [{ name: 'hello', rps: 10 }],
        targets: [benchTarget('ratio', 0.8, '>=', 0.7, 'a / b')],
      },
      dir,
    );
    expect(file).toBe(join(dir, 'pilot-example.json'));
    const written = JSON.parse(readFileSync(file, 'utf8'));
    expect(written).toMatchObject({ format: BENCH_RESULTS_FORMAT, package: '@pilot/example' });
    expect(Number.isFinite(Date.parse(written.date))).toBe(true);
    expect(written.machine.cores).toBeGreaterThan(0);
    expect(written.machine.node).toBe(process.version);
    const [read] = readBenchReports(dir);
    expect(read).toMatchObject({ report: { package: '@pilot/example', results: [{ name: 'hello' }] } });
  });

  it('refuses reports older than the run, foreign and broken files', () => {
    const dir = tempDir();
    writeBenchReport(
      { package: '@pilot/old', date: '2020-01-01T00:00:00.000Z', results: [], targets: [] },
      dir,
    );
    writeBenchReport({ package: '@pilot/new', results: [], targets: [] }, dir);
    writeFileSync(join(dir, 'broken.json'), '{');
    writeFileSync(join(dir, 'foreign.json'), '{"package":"x"}');
    const read = readBenchReports(dir, Date.parse('2021-01-01T00:00:00.000Z'));
    const byFile = Object.fromEntries(read.map((r) => [r.file.slice(dir.length + 1), r]));
    expect(byFile['pilot-new.json']).toHaveProperty('report');
    expect(byFile['pilot-old.json']).toMatchObject({ problem: expect.stringMatching(/earlier run/) });
    expect(byFile['broken.json']).toMatchObject({ problem: expect.stringMatching(/unreadable/) });
    expect(byFile['foreign.json']).toMatchObject({ problem: expect.stringMatching(/not a/) });
    expect(readBenchReports(join(dir, 'missing'))).toEqual([]);
  });

  it('finds the repository root and reads CPU time from /proc', () => {
    expect(readFileSync(join(repoRoot(import.meta.dirname), 'pnpm-workspace.yaml'), 'utf8')).toContain(
      'packages',
    );
    const until = performance.now() + 50;
    while (performance.now() < until); // some CPU time to read back
    const cpu = procCpuSeconds(process.pid);
    if (process.platform === 'linux') expect(cpu).toBeGreaterThan(0);
    else expect(cpu).toBeNull();
    expect(procCpuSeconds(2 ** 30)).toBeNull();
    for (const core of pinnableCores()) expect(Number.isInteger(core)).toBe(true);
  });
});
