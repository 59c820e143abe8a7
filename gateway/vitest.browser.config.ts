import { pilotVitestConfig } from '@pilot/test-kit/vitest';

export default pilotVitestConfig({}, { phase: 'browser' });
