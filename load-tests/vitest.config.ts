import { fileURLToPath } from 'node:url';
import { pilotVitestConfig } from '@pilot/test-kit/vitest';

// k6 modules do not exist in Node: test/k6-script.test.ts runs k6/run.js against stubs.
const stub = (name: string) => fileURLToPath(new URL(`./test/k6-stubs/${name}.ts`, import.meta.url));

/** Shared with vitest.browser.config.ts. */
export const k6Stubs = {
  resolve: {
    alias: [
      { find: /^k6$/, replacement: stub('k6') },
      { find: /^k6\/crypto$/, replacement: stub('crypto') },
      { find: /^k6\/http$/, replacement: stub('http') },
      { find: /^k6\/metrics$/, replacement: stub('metrics') },
      { find: /^k6\/data$/, replacement: stub('data') },
      { find: /^k6\/execution$/, replacement: stub('execution') },
    ],
  },
};

export default pilotVitestConfig(k6Stubs);
