import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { type TestRedis, useTestRedis } from '@pilot/test-kit';
import fc from 'fast-check';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSelector, readCustomGates, selectValue } from '../../src/control/rollout/custom.ts';
import { rolloutSchema } from '../../src/control/rollout/schema.ts';
import { RedisWindowStore } from '../../src/control/rollout/window.ts';

const silent = pino({ level: 'silent' });

describe('fleet window numbers in Redis (real Redis)', () => {
  let redis: TestRedis;
  beforeAll(async () => {
    redis = await useTestRedis('rollout-window');
  });
  afterAll(() => redis.cleanup());

  it('the numbers of every instance add up, per backend and second, over exactly the window asked', async () => {
    const a = new RedisWindowStore(redis.client, redis.prefix, 'gw-a', silent);
    const b = new RedisWindowStore(redis.client, redis.prefix, 'gw-b', silent);
    const s = 2_000_000_000;
    await a.add('subscribers', [
      { second: s, backends: { modern: { requests: 3, errors: 1, hist: [0, 2, 1] } } },
      { second: s + 1, backends: { legacy: { requests: 7, errors: 0, hist: [7] } } },
    ]);
    await b.add('subscribers', [
      {
        second: s,
        backends: { modern: { requests: 5, errors: 0, hist: [0, 0, 0, 5] } },
        shadow: { compared: 4, mismatched: 1, notCompared: 2 },
      },
      { second: s + 2, backends: { modern: { requests: 100, errors: 100, hist: [] } } },
    ]);
    const w = await a.read('subscribers', s * 1000, (s + 2) * 1000);
    expect(w.instances).toBe(2);
    expect(w.backends.modern).toEqual({ requests: 8, errors: 1, hist: [0, 2, 1, 5] });
    expect(w.backends.legacy).toEqual({ requests: 7, errors: 0, hist: [7] });
    expect(w.shadow).toEqual({ compared: 4, mismatched: 1, notCompared: 2 });
    // second s+2 is outside [s, s+2)
    expect((await b.read('subscribers', (s + 2) * 1000, (s + 3) * 1000)).backends.modern!.errors).toBe(100);
    expect((await b.read('subscribers', s * 1000, s * 1000)).instances).toBe(0);
    const ttl = await redis.client.ttl(`${redis.prefix}rollout:win:subscribers:${s}`);
    expect(ttl).toBeGreaterThan(0);
  });
});

describe('custom gates read Prometheus text', () => {
  let server: http.Server;
  let url: string;
  let body = '';
  let status = 200;
  beforeAll(async () => {
    server = http.createServer((_req, res) => {
      res.writeHead(status, { 'content-type': 'text/plain' });
      res.end(body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const TEXT = `# HELP db_errors_total Errors
# TYPE db_errors_total counter
db_errors_total{route="subscribers",kind="timeout"} 3
db_errors_total{route="subscribers",kind="refused"} 2
db_errors_total{route="articles",kind="timeout"} 40
# TYPE queue_depth gauge
queue_depth 7
# TYPE latency_seconds histogram
latency_seconds_bucket{le="0.1"} 5
latency_seconds_bucket{le="+Inf"} 6
latency_seconds_sum 0.9
latency_seconds_count 6`;

  it('sums the series a selector picks; _count/_sum reach into histograms', () => {
    expect(selectValue(TEXT, parseSelector('db_errors_total{route="subscribers"}'))).toBe(5);
    expect(selectValue(TEXT, parseSelector('db_errors_total{route="subscribers",kind="timeout"}'))).toBe(3);
    expect(selectValue(TEXT, parseSelector('db_errors_total'))).toBe(45);
    expect(selectValue(TEXT, parseSelector('queue_depth'))).toBe(7);
    expect(selectValue(TEXT, parseSelector('latency_seconds_count'))).toBe(6);
    expect(selectValue(TEXT, parseSelector('nothing_here'))).toBeNull();
  });

  it('arbitrary text gives a number, no series, or one named error (generated input)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (text) => {
        try {
          const v = selectValue(text, parseSelector('x{a="b"}'));
          expect(v === null || Number.isFinite(v)).toBe(true);
        } catch (error) {
          expect((error as Error).message).toMatch(/^unreadable Prometheus text/);
        }
      }),
    );
  });

  it('reads a URL: value, increase between checks, and no value (not a failure) when unreadable', async () => {
    const gates = rolloutSchema.parse({
      steps: [100],
      gates: {
        custom: [
          { name: 'depth', url, metric: 'queue_depth', op: '<', threshold: 10 },
          {
            name: 'errors',
            url,
            metric: 'db_errors_total{route="subscribers"}',
            threshold: 0,
            increase: true,
          },
        ],
      },
    }).gates.custom;
    const previous = new Map<string, number>();
    body = TEXT;
    const first = await readCustomGates(gates, previous);
    expect(first.depth).toEqual({ value: 7 });
    expect(first.errors!.value).toBeNull();
    body = TEXT.replace('kind="timeout"} 3', 'kind="timeout"} 9');
    expect((await readCustomGates(gates, previous)).errors).toEqual({ value: 6 });
    body = '{! not metrics';
    expect((await readCustomGates(gates, previous)).depth).toMatchObject({
      value: null,
      error: expect.stringMatching(/unreadable Prometheus text/),
    });
    body = TEXT;
    status = 503;
    const down = await readCustomGates(gates, previous);
    expect(down.depth).toMatchObject({ value: null, error: expect.stringMatching(/HTTP 503/) });
    status = 200;
  });
});
