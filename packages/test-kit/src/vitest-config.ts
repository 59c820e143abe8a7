import { defineConfig, mergeConfig, type ViteUserConfig } from 'vitest/config';
import { PilotResultsReporter } from './results-reporter.ts';

/**
 * The vitest settings every package shares. Results also go to test-results.json (see
 * results-reporter.ts) so the root `pnpm test` can print per-package counts, and turbo caches
 * that file with the task.
 */
export function pilotVitestConfig(overrides: ViteUserConfig = {}): ViteUserConfig {
  const base = defineConfig({
    test: {
      include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
      environment: 'node',
      reporters: ['default', new PilotResultsReporter()],
      testTimeout: 20_000,
      hookTimeout: 30_000,
      // 2-core CI machines: more workers only adds context switching.
      maxWorkers: 2,
      passWithNoTests: false,
    },
  });
  return mergeConfig(base, overrides);
}
