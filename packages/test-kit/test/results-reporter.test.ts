import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startVitest } from 'vitest/node';
import { type PilotTestResults, PilotResultsReporter, RESULTS_FORMAT } from '../src/results-reporter.ts';

const FIXTURES = fileURLToPath(new URL('./fixtures/results/', import.meta.url));

/** Runs vitest on the fixture files given, with the reporter writing into a temp root. */
async function runFixtures(files: string[]): Promise<PilotTestResults> {
  const out = await mkdtemp(join(tmpdir(), 'pilot-results-'));
  try {
    const vitest = await startVitest('test', [], {
      root: FIXTURES,
      include: files,
      watch: false,
      reporters: [new PilotResultsReporter({ outputDir: out })],
      silent: true,
    });
    await vitest.close();
    return JSON.parse(await readFile(join(out, 'test-results.json'), 'utf8')) as PilotTestResults;
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

describe('PilotResultsReporter (fixture runs of vitest itself)', () => {
  let saved: typeof process.exitCode;
  beforeAll(() => {
    // A nested vitest run sets the exit code of this process when its fixtures fail.
    saved = process.exitCode;
  });
  afterAll(() => {
    process.exitCode = saved;
  });

  it('counts passed, skipped and todo tests of a clean file', async () => {
    const results = await runFixtures(['passes.fixture.ts']);
    expect(results.format).toBe(RESULTS_FORMAT);
    expect(results.counts).toMatchObject({
      passed: 1,
      failed: 0,
      notRun: 0,
      skipped: 1,
      todo: 1,
      failedFiles: 0,
    });
    expect(results.skippedTests).toEqual(['passes.fixture.ts > is skipped on purpose']);
    expect(results.reason).toBe('passed');
  });

  it('counts a failed test as failed', async () => {
    const results = await runFixtures(['fails.fixture.ts']);
    expect(results.counts).toMatchObject({ passed: 1, failed: 1, failedFiles: 0 });
    expect(results.failedTests).toEqual(['fails.fixture.ts > fails']);
    expect(results.reason).toBe('failed');
  });

  it('counts a file that fails to load as a failed file, not as nothing', async () => {
    const results = await runFixtures(['load-error.fixture.ts']);
    expect(results.counts).toMatchObject({ passed: 0, failed: 0, failedFiles: 1 });
    expect(results.files).toEqual([
      expect.objectContaining({ file: 'load-error.fixture.ts', state: 'failed' }),
    ]);
    expect(results.files[0]!.errors.join('\n')).toContain('cannot load this module');
  });

  it('counts the tests of a suite whose beforeAll threw as not run, never as skipped', async () => {
    const results = await runFixtures(['hook-error.fixture.ts']);
    expect(results.counts).toMatchObject({ passed: 1, notRun: 2, skipped: 0, failedFiles: 0 });
    expect(results.failedTests).toEqual([
      'hook-error.fixture.ts > a suite whose beforeAll throws > first (not run)',
      'hook-error.fixture.ts > a suite whose beforeAll throws > second (not run)',
    ]);
    expect(results.files[0]!.errors.join('\n')).toContain('set-up failed');
  });

  it('counts a file whose afterAll threw as failed although its tests passed', async () => {
    const results = await runFixtures(['after-error.fixture.ts']);
    expect(results.counts).toMatchObject({ passed: 1, failed: 0, failedFiles: 1 });
  });

  it('counts unhandled errors', async () => {
    const results = await runFixtures(['unhandled.fixture.ts']);
    expect(results.counts.unhandledErrors).toBe(1);
    expect(results.unhandledErrors[0]).toContain('nobody awaited me');
  });
});
