import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayHandle } from '../src/index.ts';
import {
  type Backends,
  call,
  client,
  runConcurrent,
  startBackends,
  startGateway,
  table,
  tempDir,
  writeTable,
} from './helpers.ts';

describe('weighted split with a sticky key (fake backends)', () => {
  let backends: Backends;
  let gw: GatewayHandle;
  let cleanup: () => Promise<void>;
  const agent = client(16);

  beforeAll(async () => {
    backends = await startBackends({
      legacy: (_req, res) => {
        res.end('legacy');
      },
      modern: (_req, res) => {
        res.end('modern');
      },
    });
    const t = await tempDir();
    cleanup = t.cleanup;
    const file = await writeTable(
      t.dir,
      table(`routes:
  - id: subscribers
    path: /subscribers*
    split: { legacy: 90, modern: 10 }
    sticky: [header:x-user-id, jwt:sub, cookie:pilot_uid]
  - id: default
    path: /*
    backend: legacy
`),
    );
    gw = await startGateway({ routesFile: file, env: backends.env, accessLog: false });
  });
  afterAll(async () => {
    await agent.close();
    await gw.close();
    await backends.close();
    await cleanup();
  });

  it('sends 10% ± 3 points of 10,000 requests to modern (half keyless, half distinct users)', {
    timeout: 180_000,
  }, async () => {
    const results = await runConcurrent(10_000, 24, async (i) => {
      const headers = i % 2 === 0 ? { 'x-user-id': `user-${i}` } : undefined;
      const res = await call(`${gw.url}/subscribers`, {
        method: 'POST',
        body: '{}',
        headers,
        dispatcher: agent,
      });
      expect(res.status).toBe(200);
      expect(res.text).toBe(res.headers['x-backend']);
      return res.text;
    });
    const pct = (list: string[]) => (list.filter((b) => b === 'modern').length / list.length) * 100;
    for (const part of [
      results,
      results.filter((_, i) => i % 2 === 0),
      results.filter((_, i) => i % 2 === 1),
    ]) {
      expect(pct(part)).toBeGreaterThanOrEqual(7);
      expect(pct(part)).toBeLessThanOrEqual(13);
    }
  });

  it('keeps every key on one backend (header, cookie and JWT subject): 100% sticky', {
    timeout: 60_000,
  }, async () => {
    const jwt = (sub: string) =>
      `Bearer ${Buffer.from('{"alg":"HS256"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub })).toString('base64url')}.sig`;
    const keys = Array.from({ length: 100 }, (_, i) => i);
    const kinds: Array<(i: number) => Record<string, string>> = [
      (i) => ({ 'x-user-id': `sticky-${i}` }),
      (i) => ({ cookie: `theme=dark; pilot_uid=c-${i}` }),
      (i) => ({ authorization: jwt(`u-${i}`) }),
    ];
    let modern = 0;
    for (const headers of kinds) {
      await runConcurrent(keys.length, 12, async (i) => {
        const seen = new Set<string>();
        for (let n = 0; n < 5; n++) {
          const res = await call(`${gw.url}/subscribers`, { headers: headers(i), dispatcher: agent });
          expect(res.status).toBe(200);
          seen.add(res.text);
        }
        expect(seen.size).toBe(1);
        if (seen.has('modern')) modern++;
      });
    }
    // both sides got some keys: stickiness is not "everyone on legacy"
    expect(modern).toBeGreaterThan(0);
    expect(modern).toBeLessThan(keys.length * kinds.length);
  });

  it('a canary raise only moves users onto modern, never off it', async () => {
    const users = Array.from({ length: 500 }, (_, i) => `canary-${i}`);
    const before = await Promise.all(
      users.map((u) => call(`${gw.url}/subscribers`, { headers: { 'x-user-id': u }, dispatcher: agent })),
    );
    await gw.gateway.changeRoute('subscribers', { weights: { legacy: 50, modern: 50 } }, 'set-weights', {
      who: 'test',
      ip: '',
    });
    const after = await Promise.all(
      users.map((u) => call(`${gw.url}/subscribers`, { headers: { 'x-user-id': u }, dispatcher: agent })),
    );
    users.forEach((_, i) => {
      if (before[i]!.text === 'modern') expect(after[i]!.text).toBe('modern');
    });
    expect(after.filter((r) => r.text === 'modern').length).toBeGreaterThan(
      before.filter((r) => r.text === 'modern').length,
    );
  });
});
