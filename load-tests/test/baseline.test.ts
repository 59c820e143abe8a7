// `--baseline`: changes in percent, marked only beyond the noise measured by repeat rounds; and
// `pnpm report`: results.json from either engine, a raw k6 summary, several runs merged.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BaselineError, compareWithBaseline, loadBaseline } from '../src/baseline.ts';
import { type CompareReport, RESULTS_SCHEMA, type RunResult } from '../src/model.ts';
import { baselineTable } from '../src/report.ts';
import { mergeResults, ReportInputError, readResults, renderReport } from '../src/report-cli.ts';
import { computeRatios, summarize } from '../src/summary.ts';
import { capacityRun, fakeCost, fakeRun } from './helpers.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'pilot-baseline-'));
  dirs.push(dir);
  return dir;
};
const FIXTURE = join(import.meta.dirname, 'fixtures', 'modern.k6-summary.json');

function reportOf(runs: RunResult[], engine: 'node' | 'k6' = 'node'): CompareReport {
  const summaries = summarize(runs);
  return {
    schema: RESULTS_SCHEMA,
    tool: 'test',
    engine,
    mode: 'full',
    kinds: [...new Set(runs.map((r) => r.kind))],
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: '2026-01-01T00:05:00.000Z',
    catalogue: { path: 'x', sha256: 'y' },
    machine: { node: 'v24', platform: 'linux-x64', cpus: 2 },
    targets: Object.fromEntries(runs.map((r) => [r.target, r.baseUrl])),
    stackSource: 'test',
    upstreamMetric: '-',
    rounds: Math.max(...runs.map((r) => r.round)),
    runs,
    summaries,
    ratios: computeRatios(summaries, runs),
    notes: [],
  };
}

/** Two rounds of a cached read against modern with these p99s (ms) and CPU per 1k. */
function rounds(p99s: [number, number], cpu: [number, number]): RunResult[] {
  return p99s.map((p99, i) =>
    fakeRun('cached-read', 'modern', [p99 / 2, p99 / 2, p99 / 2, p99], {
      round: i + 1,
      cost: fakeCost('modern', cpu[i]!, 100),
    }),
  );
}

describe('--baseline', () => {
  it('marks a change beyond the run-to-run noise, and leaves one within it alone', () => {
    const before = reportOf(rounds([10, 11], [0.5, 0.52]));
    const file = join(tempDir(), 'results.json');
    writeFileSync(file, JSON.stringify(before));
    const now = summarize(rounds([20, 21], [0.51, 0.5]));
    const cmp = compareWithBaseline(now, loadBaseline(file), file);
    const p99 = cmp.rows.find((r) => r.metric === 'p99')!;
    expect(p99.changePct).toBeCloseTo(95.2, 0);
    expect(p99.noisePct).toBeCloseTo(9.5, 0);
    expect(p99.verdict).toBe('worse');
    const cpu = cmp.rows.find((r) => r.metric === 'cpuPer1k')!;
    expect(cpu.verdict).toBe('within noise');
    expect(baselineTable(cmp)).toMatch(/cached-read \| modern \| p99 .*\+95\.\d% \| +±9\.\d% \| WORSE/);
  });

  it('higher is better for capacity; with one round on both sides the noise is unknown and nothing is marked', () => {
    const before = reportOf([
      capacityRun('legacy', [
        [100, 10],
        [200, 20],
        [400, 900],
      ]),
    ]);
    const file = join(tempDir(), 'results.json');
    writeFileSync(file, JSON.stringify(before));
    const now = summarize([
      capacityRun('legacy', [
        [100, 10],
        [200, 20],
        [400, 30],
        [800, 900],
      ]),
    ]);
    const cmp = compareWithBaseline(now, loadBaseline(file), file);
    expect(cmp.rows.find((r) => r.metric === 'capacity')).toMatchObject({
      baseline: 200,
      current: 400,
      changePct: 100,
      noisePct: null,
      verdict: 'noise unknown',
    });
    const noisy = summarize([
      capacityRun('legacy', [
        [100, 10],
        [200, 20],
        [400, 30],
        [800, 900],
      ]),
      {
        ...capacityRun('legacy', [
          [100, 10],
          [200, 20],
          [400, 30],
          [800, 900],
        ]),
        round: 2,
      },
    ]);
    expect(
      compareWithBaseline(noisy, loadBaseline(file), file).rows.find((r) => r.metric === 'capacity')!.verdict,
    ).toBe('better');
  });

  it('names scenario/target pairs found on one side only, and refuses a file that is not results.json', () => {
    const file = join(tempDir(), 'results.json');
    writeFileSync(file, JSON.stringify(reportOf(rounds([10, 11], [0.5, 0.5]))));
    const cmp = compareWithBaseline(
      summarize([fakeRun('list-paging', 'legacy', [1])]),
      loadBaseline(file),
      file,
    );
    expect(cmp.unmatched).toEqual([
      'list-paging → legacy (not in the baseline)',
      'cached-read → modern (only in the baseline)',
    ]);
    const bad = join(tempDir(), 'bad.json');
    writeFileSync(bad, '{"runs": []}');
    expect(() => loadBaseline(bad)).toThrow(BaselineError);
  });
});

describe('pnpm report', () => {
  it('renders a raw k6 summary (with its target) into the same report files', () => {
    const out = join(tempDir(), 'r');
    const { report, written } = renderReport([FIXTURE], { target: 'modern', out });
    expect(report.engine).toBe('k6');
    const html = readFileSync(written.html, 'utf8');
    expect(html).toContain('capacity curve: latency against offered load');
    expect(html).toContain('offered vs achieved (iterations per second)');
    expect(html).toContain('not verifiable on k6');
    expect(JSON.parse(readFileSync(written.json, 'utf8')).schema).toBe(RESULTS_SCHEMA);
    expect(() => readResults(FIXTURE)).toThrow(/--target/);
  });

  it('merges k6 runs against several targets into one report with ratios', () => {
    const dir = tempDir();
    const modern = readResults(FIXTURE, { target: 'modern' });
    const legacy: CompareReport = JSON.parse(JSON.stringify(modern));
    for (const run of legacy.runs) {
      run.target = 'legacy';
      if (run.capacity) run.capacity.capacityAtSlo = 819;
    }
    legacy.targets = { legacy: 'http://127.0.0.1:3001' };
    const files = [join(dir, 'k6-results-modern.json'), join(dir, 'k6-results-legacy.json')];
    writeFileSync(files[0]!, JSON.stringify(modern));
    writeFileSync(files[1]!, JSON.stringify(legacy));
    const { report } = renderReport(files, { out: join(dir, 'out') });
    expect(Object.keys(report.targets).sort()).toEqual(['legacy', 'modern']);
    expect(
      report.ratios.find((r) => r.scenario === 'cached-read-capacity' && r.metric === 'capacity'),
    ).toMatchObject({
      numerator: 'modern',
      denominator: 'legacy',
      value: 1.6,
    });
    expect(() => mergeResults([modern, modern], ['a', 'b'])).toThrow(/in more than one file/);
    expect(() => mergeResults([modern, { ...legacy, engine: 'node' }], ['a', 'b'])).toThrow(ReportInputError);
  });
});
