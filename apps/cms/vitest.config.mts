import { pilotVitestConfig } from '@pilot/test-kit/vitest';

// Each file boots a real Strapi (~3-8 s on a loaded 2-core machine): generous hook timeouts.
export default pilotVitestConfig({
  test: {
    hookTimeout: 180_000,
    testTimeout: 30_000,
  },
});
