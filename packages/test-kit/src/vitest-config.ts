import { defineConfig, mergeConfig, type ViteUserConfig } from 'vitest/config';

/**
 * The vitest settings every package shares. Results also go to test-results.json so the
 * root `pnpm test` can print per-package counts, and turbo caches that file with the task.
 */
export function pilotVitestConfig(overrides: ViteUserConfig = {}): ViteUserConfig {
  const base = defineConfig({
    test: {
      include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
      environment: 'node',
      reporters: ['default', 'json'],
      outputFile: { json: './test-results.json' },
      testTimeout: 20_000,
      hookTimeout: 30_000,
      // 2-core CI machines: more workers only adds context switching.
      maxWorkers: 2,
      passWithNoTests: false,
    },
  });
  return mergeConfig(base, overrides);
}
