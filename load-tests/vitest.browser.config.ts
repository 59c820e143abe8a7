import { pilotVitestConfig } from '@pilot/test-kit/vitest';
import { k6Stubs } from './vitest.config.ts';

export default pilotVitestConfig(k6Stubs, { phase: 'browser' });
