import Fastify from 'fastify';
import { createMemoryContent } from '@pilot/content';
import { createHttpMetrics } from '@pilot/service-kit';
import { createApp } from '../src/index.ts';
import { testDeps } from '../test/helpers.ts';
const slug = 'strangler-fig-in-practice';
const content = createMemoryContent();
const article = await content.getArticle(slug);
const bare = Fastify();
bare.get('/articles/:slug', async () => ({ data: article }));
const noopMetrics = { ...createHttpMetrics('x'), observe() {} };
const apps: Record<string, any> = {
  bare,
  modern: createApp(testDeps({ tuning: {} })),
  noMetrics: createApp(testDeps({ tuning: {}, metrics: noopMetrics })),
  noPressure: createApp(testDeps({ tuning: { underPressure: false } })),
};
for (const a of Object.values(apps)) await a.ready();
async function t(name: string, f: any, n = 15000) {
  for (let i = 0; i < 2000; i++) await f.inject(`/articles/${slug}`);
  const cpu = process.cpuUsage();
  for (let i = 0; i < n; i++) await f.inject(`/articles/${slug}`);
  const d = process.cpuUsage(cpu);
  console.log(name.padEnd(12), (((d.user + d.system) / n)).toFixed(1), 'µs CPU/req');
}
for (let k = 0; k < 2; k++) for (const [n, a] of Object.entries(apps)) await t(n, a);
