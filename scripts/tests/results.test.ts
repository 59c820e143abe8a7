import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PilotTestResults } from '../../packages/test-kit/src/results-reporter.ts';
import { packageRow, readResults, renderTable, totals } from '../testing/results.ts';

function results(
  counts: Partial<PilotTestResults['counts']>,
  extra: Partial<PilotTestResults> = {},
): PilotTestResults {
  return {
    format: 'pilot-test-results/1',
    reason: 'passed',
    startedAt: '',
    finishedAt: '',
    counts: {
      passed: 0,
      failed: 0,
      notRun: 0,
      skipped: 0,
      todo: 0,
      failedFiles: 0,
      unhandledErrors: 0,
      ...counts,
    },
    files: [],
    failedTests: [],
    skippedTests: [],
    unhandledErrors: [],
    ...extra,
  };
}

describe('readResults', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pilot-results-read-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('refuses a missing file, a file older than the run, and a file in another format', async () => {
    const runStarted = Date.now();
    expect(readResults(join(dir, 'none.json'), runStarted)).toEqual({
      problem: expect.stringContaining('no results'),
    });

    const stale = join(dir, 'stale.json');
    await writeFile(stale, JSON.stringify(results({ passed: 3 })));
    const past = new Date(runStarted - 60_000);
    await utimes(stale, past, past);
    expect(readResults(stale, runStarted)).toEqual({ problem: expect.stringContaining('earlier run') });

    const vitestJson = join(dir, 'vitest.json');
    await writeFile(vitestJson, JSON.stringify({ numPassedTests: 3, success: true }));
    expect(readResults(vitestJson, runStarted)).toEqual({
      problem: expect.stringContaining('unknown format'),
    });

    const fresh = join(dir, 'fresh.json');
    await writeFile(fresh, JSON.stringify(results({ passed: 3 })));
    expect(readResults(fresh, runStarted)).toEqual({
      results: expect.objectContaining({ counts: expect.objectContaining({ passed: 3 }) }),
    });
  });
});

describe('packageRow', () => {
  it('a package without results is one failure, never zero', () => {
    const row = packageRow(
      '@pilot/x',
      { problem: 'no results: the tests did not run' },
      { exitCode: 1, cached: false },
    );
    expect(row).toMatchObject({ failed: 1, ok: false });
    expect(row.status).toBe('FAILED: no results: the tests did not run (exit 1)');
  });

  it('counts tests not run after a failed set-up, files that failed to load and unhandled errors as failed', () => {
    const row = packageRow(
      '@pilot/gateway',
      {
        results: results(
          { passed: 736, notRun: 3, failedFiles: 1, unhandledErrors: 1, skipped: 2 },
          {
            reason: 'failed',
            failedTests: ['test/a.browser.test.ts > page > works (not run)'],
            files: [{ file: 'test/b.test.ts', state: 'failed', errors: ['Cannot find module ./x.ts'] }],
            unhandledErrors: ['boom'],
          },
        ),
      },
      { exitCode: 1, cached: false },
    );
    expect(row).toMatchObject({ passed: 736, failed: 5, skipped: 2, ok: false });
    expect(row.status).toBe(
      'FAILED: 3 not run (their file or suite failed first), 1 file failed outside a test, 1 unhandled error',
    );
    expect(row.failures).toEqual([
      '@pilot/gateway: test/a.browser.test.ts > page > works (not run)',
      '@pilot/gateway: test/b.test.ts: Cannot find module ./x.ts',
      '@pilot/gateway: unhandled: boom',
    ]);
  });

  it('a non-zero exit with every test passed still counts as a failure', () => {
    const row = packageRow('@pilot/x', { results: results({ passed: 5 }) }, { exitCode: 1, cached: false });
    expect(row).toMatchObject({ passed: 5, failed: 1, ok: false });
    expect(row.status).toContain('vitest exit 1');
  });

  it('an interrupted run counts as a failure', () => {
    const row = packageRow('@pilot/x', { results: results({ passed: 5 }, { reason: 'interrupted' }) });
    expect(row).toMatchObject({ failed: 1, ok: false });
  });

  it('says when the results were replayed from turbo’s cache', () => {
    expect(
      packageRow('@pilot/x', { results: results({ passed: 5 }) }, { exitCode: 0, cached: true }).status,
    ).toBe('ok (cached)');
  });

  it('totals and the table add up the rows', () => {
    const rows = [
      packageRow('a', { results: results({ passed: 2, skipped: 1 }) }),
      packageRow('b', { problem: 'no results' }),
    ];
    expect(totals(rows)).toEqual({ passed: 2, failed: 1, skipped: 1 });
    expect(renderTable(rows).split('\n')).toEqual([
      'package | passed | failed | skipped | status',
      '--------|--------|--------|---------|-------------------',
      'a       | 2      | 0      | 1       | ok',
      'b       | 0      | 1      | 0       | FAILED: no results',
    ]);
  });
});
