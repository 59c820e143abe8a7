import { ArticleResponse, ArticleParams, CreateSubscriberBody, errorBody } from '@pilot/contracts';
import { createMemoryContent } from '@pilot/content';
import { safeEncode } from 'zod/v4/core';
import { createHttpMetrics } from '@pilot/service-kit';
const c = createMemoryContent();
const a = { data: (await c.getArticle('strangler-fig-in-practice'))! };
const m = createHttpMetrics('x');
function t(name: string, fn: () => unknown, n = 200_000) {
  for (let i = 0; i < 10_000; i++) fn();
  const s = performance.now(); for (let i = 0; i < n; i++) fn(); const e = performance.now();
  console.log(name.padEnd(30), ((e - s) * 1000 / n).toFixed(3), 'µs');
}
t('JSON.stringify', () => JSON.stringify(a));
t('safeEncode+stringify', () => JSON.stringify(safeEncode(ArticleResponse, a).data));
t('params safeParse', () => ArticleParams.safeParse({ slug: 'strangler-fig-in-practice' }));
t('422 safeParse', () => CreateSubscriberBody.safeParse({ email: 'not-an-email', name: 'Bench' }));
t('new Error', () => new Error('x'));
t('metrics.observe', () => m.observe('GET', '/articles/:slug', 200, 0.001));
t('randomUUID', () => crypto.randomUUID());
t('getArticle', () => c.getArticle('strangler-fig-in-practice'));
