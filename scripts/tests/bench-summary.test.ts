import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  benchTarget,
  readBenchReports,
  writeBenchReport,
} from '../../packages/test-kit/src/bench-results.ts';
import { benchPackages, renderSummary } from '../bench-summary.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
const temp = () => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-summary-'));
  dirs.push(dir);
  return dir;
};

describe('bench summary', () => {
  it('one row per target of this run, the verdict, what it divides; stale and missing packages named', () => {
    const dir = temp();
    writeBenchReport(
      {
        package: '@pilot/a',
        results: [{ name: 'x' }],
        targets: [
          benchTarget('fast enough', 0.74, '>=', 0.7, 'a per CPU-second / b per CPU-second'),
          benchTarget('small enough', 1.3, '<=', 1, 'a CPU / b CPU', 'noisy'),
        ],
      },
      dir,
    );
    writeBenchReport(
      { package: '@pilot/old', date: '2020-01-01T00:00:00.000Z', results: [], targets: [] },
      dir,
    );
    const since = Date.parse('2021-01-01T00:00:00.000Z');
    const { lines, failed } = renderSummary(readBenchReports(dir, since), [
      '@pilot/a',
      '@pilot/b',
      '@pilot/old',
    ]);
    const text = lines.join('\n');
    expect(text).toMatch(
      /@pilot\/a\s+fast enough\s+0\.74\s+>= 0\.7\s+yes\s+a per CPU-second \/ b per CPU-second/,
    );
    expect(text).toMatch(/@pilot\/a\s+small enough\s+1\.3\s+<= 1\s+NO\s+a CPU \/ b CPU \(noisy\)/);
    expect(text).toContain('! @pilot/b: no results from this run');
    expect(text).toContain('! @pilot/old: no results from this run');
    expect(text).toMatch(/pilot-old\.json: left over from an earlier run/);
    expect(text).toContain('1 of 2 targets met');
    expect(failed).toBe(true);
  });

  it('passes when every expected package wrote its results', () => {
    const dir = temp();
    writeBenchReport({ package: '@pilot/a', results: [], targets: [] }, dir);
    const { lines, failed } = renderSummary(readBenchReports(dir), ['@pilot/a']);
    expect(failed).toBe(false);
    expect(lines.join('\n')).toContain('(no targets; 0 results)');
  });

  it('expects a result from every workspace package with a bench script', () => {
    const repo = temp();
    for (const [dir, pkg] of [
      ['apps/x', { name: '@pilot/x', scripts: { bench: 'node b.ts' } }],
      ['packages/y', { name: '@pilot/y', scripts: { test: 'vitest' } }],
      ['gateway', { name: '@pilot/gateway', scripts: { bench: 'node bench/run.ts' } }],
    ] as const) {
      mkdirSync(join(repo, dir), { recursive: true });
      writeFileSync(join(repo, dir, 'package.json'), JSON.stringify(pkg));
    }
    expect(benchPackages(repo)).toEqual(['@pilot/gateway', '@pilot/x']);
  });
});
