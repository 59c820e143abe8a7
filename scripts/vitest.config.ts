import { pilotVitestConfig } from '../packages/test-kit/src/vitest-config.ts';

// The root scripts' own tests (stack supervisor, test-run set-up, summary); `pnpm test` runs them.
export default pilotVitestConfig({ root: import.meta.dirname, test: { include: ['tests/**/*.test.ts'] } });
