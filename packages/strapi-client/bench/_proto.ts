import { BentoCache, bentostore } from 'bentocache';
import { memoryDriver } from 'bentocache/drivers/memory';
for (const serialize of [true, false]) {
  const bento = new BentoCache({ default: 'c', stores: { c: bentostore().useL1Layer(memoryDriver({ maxItems: 1000, serialize })) } });
  const c = bento.use('c');
  const value = { data: Array.from({ length: 10 }, (_, i) => ({ id: i, documentId: 'abc' + i, title: 'Hello world ' + i, body: 'x'.repeat(200) })), meta: { pagination: { page: 1 } } };
  await c.getOrSet({ key: 'k', factory: () => value, tags: ['type:articles', 'doc:articles:abc'], ttl: 60000, grace: 600000 });
  for (const tags of [false, true]) {
    const N = 200_000;
    const t0 = performance.now();
    for (let i = 0; i < N; i += 100) {
      const ps = [];
      for (let j = 0; j < 100; j++) ps.push(c.getOrSet({ key: tags ? 'k' : 'k2', factory: () => value, tags: tags ? ['type:articles'] : undefined, ttl: 60000 }));
      await Promise.all(ps);
    }
    const dt = performance.now() - t0;
    console.log({ serialize, tags, opsPerSec: Math.round(N / (dt / 1000)) });
  }
}
