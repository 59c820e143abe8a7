import { pilotVitestConfig } from '@pilot/test-kit/vitest';

// Each file boots its own real Strapi (~3–15 s on a loaded 2-core machine): one file at a time.
export default pilotVitestConfig({
  test: { testTimeout: 60_000, hookTimeout: 180_000, fileParallelism: false },
});
