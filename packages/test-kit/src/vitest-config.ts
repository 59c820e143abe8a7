import { configDefaults, defineConfig, mergeConfig, type ViteUserConfig } from 'vitest/config';
import { BROWSER_RESULTS_FILE, PilotResultsReporter, RESULTS_FILE } from './results-reporter.ts';

/** Browser tests drive a real Chromium: they run in their own phase (`test:browser`). */
const BROWSER_TESTS = 'test/**/*.browser.test.ts';

/**
 * The vitest settings every package shares. Results also go to test-results.json (see
 * results-reporter.ts) so the root `pnpm test` can print per-package counts, and turbo caches
 * that file with the task.
 *
 * `phase: 'browser'` is the configuration of a package's `test:browser` script: only its
 * `*.browser.test.ts` files, one at a time, results in test-results.browser.json. The root
 * `pnpm test` runs that phase after every package's tests have finished, because a page driven
 * through Chromium on a 2-core machine shared with ten vitest workers ran ten times slower than
 * alone and timed out; the default phase leaves those files out.
 */
export function pilotVitestConfig(
  overrides: ViteUserConfig = {},
  { phase = 'unit' }: { phase?: 'unit' | 'browser' } = {},
): ViteUserConfig {
  const browser = phase === 'browser';
  const base = defineConfig({
    test: {
      include: browser ? [BROWSER_TESTS] : ['test/**/*.test.ts', 'src/**/*.test.ts'],
      exclude: browser ? configDefaults.exclude : [...configDefaults.exclude, BROWSER_TESTS],
      environment: 'node',
      reporters: [
        'default',
        new PilotResultsReporter({ file: browser ? BROWSER_RESULTS_FILE : RESULTS_FILE }),
      ],
      testTimeout: 20_000,
      hookTimeout: 30_000,
      // 2-core CI machines: more workers only adds context switching; one browser at a time.
      maxWorkers: browser ? 1 : 2,
      passWithNoTests: false,
    },
  });
  return mergeConfig(base, overrides);
}
