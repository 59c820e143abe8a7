import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { capacityVerdict } from '../k6/lib/analysis.js';
import { escapeHtml, ninesX, renderHtml } from '../src/html.ts';
import { type CompareReport, RESULTS_SCHEMA } from '../src/model.ts';
import {
  capacityTable,
  ratiosTable,
  reportDir,
  resultsTable,
  summaryText,
  writeReport,
} from '../src/report.ts';
import { computeRatios, directFor, noiseOf, ratio, summarize } from '../src/summary.ts';
import { capacityRun, fakeCost, fakeRun, step } from './helpers.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'pilot-report-'));
  dirs.push(dir);
  return dir;
};

function sampleReport(): CompareReport {
  const runs = [
    fakeRun('aggregate-fanout', 'legacy', [3000, 3010, 3020, 3050], {
      throughput: 3.3,
      upstreamCalls: 12,
      cost: fakeCost('legacy', 0.8, 80),
    }),
    fakeRun('aggregate-fanout', 'modern', [1000, 1005, 1010, 1020], {
      throughput: 10,
      upstreamCalls: 12,
      cost: fakeCost('modern', 0.4, 100),
    }),
    fakeRun('aggregate-fanout', 'gateway', [3002, 3012, 3022, 3060], {
      throughput: 3.3,
      servedBy: { legacy: 4 },
      cost: fakeCost('gateway', 1.2, 70),
    }),
    fakeRun('sse-<subscribe>', 'modern', [2, 3]),
    capacityRun('legacy', [
      [100, 10],
      [160, 12],
      [256, 20],
      [410, 60],
      [655, 400],
    ]),
    capacityRun('modern', [
      [100, 5],
      [160, 6],
      [256, 8],
      [410, 12],
      [655, 30],
      [1049, 900],
    ]),
    capacityRun('gateway', [
      [100, 15],
      [160, 30],
      [256, 200],
    ]),
  ];
  const summaries = summarize(runs);
  return {
    schema: RESULTS_SCHEMA,
    tool: '@pilot/load-tests compare',
    engine: 'node',
    mode: 'smoke',
    kinds: ['fixed', 'capacity'],
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: '2026-01-01T00:01:00.000Z',
    catalogue: { path: '/x/scenarios.json', sha256: 'a'.repeat(64) },
    machine: { node: 'v24', platform: 'linux-x64', cpus: 2 },
    targets: {
      legacy: 'http://127.0.0.1:3001',
      modern: 'http://127.0.0.1:3002',
      gateway: 'http://127.0.0.1:8080',
    },
    stackSource: 'given URLs',
    upstreamMetric: 'strapi_upstream_requests_total',
    rounds: 1,
    runs,
    summaries,
    ratios: computeRatios(summaries, runs),
    notes: ['a note with <markup> & "quotes"'],
  };
}

describe('summaries and ratios', () => {
  it('every ratio names what it divides; fixed runs are not compared on req/s (it is the offered rate)', () => {
    const { ratios } = sampleReport();
    const agg = ratios.filter((r) => r.scenario === 'aggregate-fanout');
    expect(agg.find((r) => r.metric === 'p50' && r.numerator === 'modern')).toMatchObject({
      denominator: 'legacy',
      value: 0.33,
    });
    expect(agg.find((r) => r.metric === 'cpuPer1k' && r.numerator === 'modern')?.value).toBe(0.5);
    // gateway ÷ direct divides whole paths for CPU
    expect(agg.find((r) => r.numerator === 'gateway' && r.metric === 'pathCpuPer1k')).toMatchObject({
      denominator: 'legacy',
      basis: 'backend header',
      value: 1.5,
    });
    expect(agg.some((r) => (r.metric as string) === 'throughput')).toBe(false);
    expect(agg.some((r) => r.metric === 'errorRate')).toBe(false); // 0 ÷ 0 says nothing
    expect(ratios.filter((r) => r.scenario === 'sse-<subscribe>')).toEqual([]);
  });

  it('capacity at SLO is compared modern ÷ legacy and gateway ÷ direct', () => {
    const { ratios } = sampleReport();
    const cap = ratios.filter((r) => r.scenario === 'cached-read-capacity' && r.metric === 'capacity');
    expect(cap.find((r) => r.numerator === 'modern')).toMatchObject({ denominator: 'legacy', value: 1.6 });
    expect(cap.find((r) => r.numerator === 'gateway')).toMatchObject({ denominator: 'legacy', value: 0.39 });
    expect(ratio(1, 0)).toBeNull();
    expect(ratio(null, 2)).toBeNull();
  });

  it('medians over rounds, noise as the relative spread', () => {
    const a = fakeRun('x', 'legacy', [10, 10, 10, 10], { round: 1 });
    const b = fakeRun('x', 'legacy', [12, 12, 12, 12], { round: 2 });
    const c = fakeRun('x', 'legacy', [11, 11, 11, 11], { round: 3 });
    const [s] = summarize([a, b, c]);
    expect(s!.rounds).toBe(3);
    expect(s!.metrics.p50!.value).toBeCloseTo(11, 1);
    expect(s!.metrics.p50!.noise).toBeCloseTo(2 / 11, 2);
    expect(noiseOf([5])).toBeNull();
  });

  it('falls back to legacy, then modern, when the gateway names no backend', () => {
    const gw = fakeRun('x', 'gateway', [1]);
    expect(directFor(gw, ['legacy', 'modern'])).toEqual({
      direct: 'legacy',
      basis: 'default: no backend header',
    });
    expect(directFor(gw, ['modern'])).toMatchObject({ direct: 'modern' });
    expect(directFor({ ...gw, servedBy: { modern: 3, legacy: 1 } }, ['legacy', 'modern'])).toMatchObject({
      direct: 'modern',
    });
    expect(directFor(gw, [])).toBeNull();
  });
});

describe('tables', () => {
  it('results: offered rate, req/s, latency, errors, CPU per 1,000 requests, RSS, generator', () => {
    const report = sampleReport();
    const [header, rule, ...rows] = resultsTable(report.runs).split('\n');
    expect(header!.split('|').map((c) => c.trim())).toEqual([
      'scenario',
      'target',
      'offered it/s',
      'req/s',
      'p50',
      'p99',
      'errors',
      'CPU-s/1k req own · path',
      'peak RSS',
      'generator',
      'upstream calls',
      'thresholds',
    ]);
    expect(rule).toMatch(/^-+-\|-/);
    expect(rows).toHaveLength(4); // capacity runs have their own table
    expect(rows[0]).toMatch(
      /aggregate-fanout \| legacy .*3\.\d\d s .*0\.8 · 0\.8 \| +80\.0 MB \| 0\.50 cores \| +12 \| FAIL p95,p99/,
    );
  });

  it('capacity: capacity at SLO, where and why it broke, the knee', () => {
    const table = capacityTable(sampleReport().runs);
    expect(table).toMatch(/cached-read-capacity \| legacy +\| +410\/s \| +655\/s \| p99 400 ms > 150 ms/);
    expect(table).toMatch(/modern +\| +655\/s \| +1,049\/s/);
    expect(table).toMatch(/gateway +\| +160\/s \| +256\/s/);
    const ratios = ratiosTable(sampleReport().ratios);
    expect(ratios).toMatch(/metric +\| modern ÷ legacy \| gateway ÷ direct backend/);
    expect(ratios).toMatch(/cached-read-capacity \| capacity at SLO +\| +1\.60× \| +0\.39× \(÷ legacy\)/);
  });

  it('a generator-limited capacity reads "≥" and names the generator', () => {
    const phases = [
      step(0, 100, 5),
      { ...step(1, 200, 6), generator: { cpuCores: 1, elu: 0.99, lagP90: 300 } },
    ];
    const run = fakeRun('c', 'modern', [1], {
      kind: 'capacity',
      phases,
      capacity: capacityVerdict(phases, { p99Ms: 150, errorRate: 0.01 }, { generatorLagMs: 50 }),
    });
    expect(run.capacity!.limitedBy).toBe('generator');
    // a ratio with a bounded capacity says it is a bound
    const legacy = capacityRun('legacy', [
      [100, 10],
      [200, 500],
    ]);
    const runs = [legacy, { ...run, scenario: legacy.scenario }];
    const [cap] = computeRatios(summarize(runs), runs).filter((r) => r.metric === 'capacity');
    expect(cap).toMatchObject({
      value: 1,
      note: expect.stringMatching(/^capacity of modern is a lower bound/),
    });
    expect(ratiosTable([cap!])).toMatch(/≥\? 1\.00×/);
    expect(capacityTable([run])).toMatch(
      /≥ 100\/s .*GENERATOR LIMIT: generator late: start lag p90 300 ms > 50\.0 ms/,
    );
  });
});

describe('report files', () => {
  it('writes results.json, summary.txt and a self-contained report.html with every chart', () => {
    const report = sampleReport();
    const dir = join(tempDir(), 'r');
    const files = writeReport(report, dir);
    expect(JSON.parse(readFileSync(files.json, 'utf8'))).toEqual(JSON.parse(JSON.stringify(report)));
    const text = readFileSync(files.text, 'utf8');
    expect(text).toContain('capacity at SLO');
    expect(text).toContain('modern ÷ legacy');
    const html = readFileSync(files.html, 'utf8');
    expect(html.startsWith('<!doctype html>')).toBe(true);
    for (const title of [
      'offered vs achieved (iterations per second)',
      'errors per second',
      'p99 latency per second',
      'capacity curve: latency against offered load',
      'achieved against offered rate per step',
      'CPU-s per 1,000 requests, by process on the path',
      'peak RSS, by process on the path',
      'Capacity at SLO',
    ]) {
      expect(html, title).toContain(title);
    }
    expect(html).toMatch(/class="knee"/); // the knee is marked
    expect(html).toContain('SLO p99 150 ms');
    // nothing loaded from elsewhere: no external script, stylesheet, image or font
    expect(html).not.toMatch(/<script|<link[^>]*href=|<img|url\(|@import/i);
    expect(html).not.toMatch(/https?:\/\/(?!127\.0\.0\.1)/);
    // names are escaped
    expect(html).toContain('sse-&lt;subscribe&gt;');
    expect(html).not.toContain('<subscribe>');
    expect(html).toContain('a note with &lt;markup&gt; &amp; &quot;quotes&quot;');
  });

  it('marks a run whose result the engine could not verify instead of passing it', () => {
    const report = sampleReport();
    report.runs[3] = { ...report.runs[3]!, unverifiable: 'not verifiable on k6: a held stream' };
    const html = renderHtml(report);
    expect(html).toContain('not verifiable on k6: a held stream');
    expect(resultsTable(report.runs)).toMatch(/sse-<subscribe> .*not verifiable/);
    expect(summaryText(report)).toContain('not verifiable');
  });

  it('never reuses a report directory', () => {
    const root = tempDir();
    const when = new Date('2026-03-04T05:06:07.890Z');
    const first = reportDir(root, when, 'full');
    expect(first).toBe(join(root, '2026-03-04T05-06-07Z'));
    writeReport(sampleReport(), first);
    expect(reportDir(root, when, 'full')).toBe(`${first}-2`);
    expect(reportDir(root, when, 'smoke')).toBe(join(root, '2026-03-04T05-06-07Z-smoke'));
    expect(reportDir(root, when, 'full', '-capacity')).toBe(join(root, '2026-03-04T05-06-07Z-capacity'));
    expect(existsSync(first)).toBe(true);
  });

  it('helpers: escaping and the percentile axis', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
    expect(ninesX(0)).toBe(0);
    expect(ninesX(90)).toBeCloseTo(1);
    expect(ninesX(99)).toBeCloseTo(2);
    expect(ninesX(100)).toBeCloseTo(5);
  });
});
