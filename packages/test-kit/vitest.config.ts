import { pilotVitestConfig } from './src/vitest-config.ts';

export default pilotVitestConfig();
