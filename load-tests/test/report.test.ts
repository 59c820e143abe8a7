import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { escapeHtml, ninesX } from '../src/html.ts';
import {
  type CompareReport,
  computeRatios,
  directFor,
  ratio,
  ratiosTable,
  reportDir,
  resultsTable,
  writeReport,
} from '../src/report.ts';
import { fakeRun } from './helpers.ts';

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
    fakeRun('aggregate-fanout', 'legacy', [3000, 3010, 3020, 3050], { throughput: 3.3, upstreamCalls: 12 }),
    fakeRun('aggregate-fanout', 'modern', [1000, 1005, 1010, 1020], { throughput: 10, upstreamCalls: 12 }),
    fakeRun('aggregate-fanout', 'gateway', [3002, 3012, 3022, 3060], {
      throughput: 3.3,
      servedBy: { legacy: 4 },
    }),
    fakeRun('sse-<subscribe>', 'modern', [2, 3]),
  ];
  return {
    tool: '@pilot/load-tests compare',
    mode: 'smoke',
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
    runs,
    ratios: computeRatios(runs),
    notes: ['a note with <markup> & "quotes"'],
  };
}

describe('ratios', () => {
  it('modern/legacy and gateway/direct, direct chosen from the backend header', () => {
    const [agg, sse] = sampleReport().ratios;
    expect(agg!.modernVsLegacy).toEqual({ throughput: 3.03, p50: 0.33, p99: 0.33 });
    expect(agg!.gatewayVsDirect).toMatchObject({ direct: 'legacy', basis: 'backend header', throughput: 1 });
    expect(sse!.modernVsLegacy).toBeNull();
    expect(sse!.gatewayVsDirect).toBeNull();
    expect(ratio(1, 0)).toBeNull();
    expect(ratio(null, 2)).toBeNull();
  });

  it('falls back to legacy, then modern, when the gateway names no backend', () => {
    const gw = fakeRun('x', 'gateway', [1]);
    expect(directFor(gw, ['legacy', 'modern'])).toEqual({
      direct: 'legacy',
      basis: 'default (no backend header)',
    });
    expect(directFor(gw, ['modern'])).toMatchObject({ direct: 'modern' });
    expect(directFor({ ...gw, servedBy: { modern: 3, legacy: 1 } }, ['legacy', 'modern'])).toMatchObject({
      direct: 'modern',
    });
    expect(directFor(gw, [])).toBeNull();
  });
});

describe('tables', () => {
  it('prints the columns the migration review expects', () => {
    const report = sampleReport();
    const table = resultsTable(report.runs);
    const [header, rule, ...rows] = table.split('\n');
    expect(header!.split('|').map((c) => c.trim())).toEqual([
      'scenario',
      'target',
      'req/s',
      'p50',
      'p99',
      'errors',
      'upstream calls',
      'thresholds',
    ]);
    expect(rule).toMatch(/^-+-\|-/);
    expect(rows).toHaveLength(4);
    expect(rows[0]).toMatch(/aggregate-fanout \| legacy .*3\.\d\d s .*\| +12 \| FAIL p95,p99/);
    expect(rows[3]).toMatch(/\| +- \| pass/);
    expect(ratiosTable(report.ratios)).toMatch(
      /aggregate-fanout \| +3\.03× \| 0\.33× \| 0\.33× \| gateway\/legacy/,
    );
  });
});

describe('report files', () => {
  it('writes results.json, summary.txt and a self-contained report.html', () => {
    const report = sampleReport();
    const dir = join(tempDir(), 'r');
    const files = writeReport(report, dir);
    expect(JSON.parse(readFileSync(files.json, 'utf8'))).toEqual(JSON.parse(JSON.stringify(report)));
    expect(readFileSync(files.text, 'utf8')).toContain('upstream calls');
    const html = readFileSync(files.html, 'utf8');
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html.match(/<svg /g)!.length).toBeGreaterThanOrEqual(8);
    // nothing loaded from elsewhere: no external script, stylesheet, image or font
    expect(html).not.toMatch(/<script[^>]*src=|<link[^>]*href=|<img|url\(|@import/i);
    expect(html).not.toMatch(/https?:\/\/(?!127\.0\.0\.1)/);
    // names are escaped
    expect(html).toContain('sse-&lt;subscribe&gt;');
    expect(html).not.toContain('<subscribe>');
    expect(html).toContain('a note with &lt;markup&gt; &amp; &quot;quotes&quot;');
  });

  it('never reuses a report directory', () => {
    const root = tempDir();
    const when = new Date('2026-03-04T05:06:07.890Z');
    const first = reportDir(root, when, 'full');
    expect(first).toBe(join(root, '2026-03-04T05-06-07Z'));
    writeReport(sampleReport(), first);
    expect(reportDir(root, when, 'full')).toBe(`${first}-2`);
    expect(reportDir(root, when, 'smoke')).toBe(join(root, '2026-03-04T05-06-07Z-smoke'));
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
