import { createApp } from '../src/index.ts';
import { testDeps } from '../test/helpers.ts';
const app = createApp(testDeps({ tuning: {} }));
await app.ready();
for (let i = 0; i < 60000; i++) await app.inject('/articles/strangler-fig-in-practice');
await app.close();
