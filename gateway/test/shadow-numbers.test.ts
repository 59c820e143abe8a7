import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayHandle } from '../src/index.ts';
import type { ShadowEvent } from '../src/shadow/mirror.ts';
import type { NoisePath } from '../src/shadow/noise.ts';
import type { ShadowSample } from '../src/shadow/samples.ts';
import type { PathCount, routeShadowNumbers } from '../src/shadow/stats.ts';

type Numbers = ReturnType<typeof routeShadowNumbers>;
import {
  auth,
  type Backends,
  call,
  startBackends,
  startGateway,
  TOKEN,
  table,
  tempDir,
  writeTable,
} from './helpers.ts';

/**
 * The shadow's numbers through a real gateway, with fake backends (they must produce noise,
 * oversized and broken answers, streams and hangs on demand).
 */
const sendJson = (res: ServerResponse, value: unknown, type = 'application/json') => {
  const body = typeof value === 'string' ? value : JSON.stringify(value);
  res.writeHead(200, { 'content-type': type });
  res.end(body);
};

/** What both backends answer on /noisy: the same content plus a random id and a timestamp. */
function noisy(url: string, shadow: boolean) {
  const q = new URL(url, 'http://x').searchParams.get('case');
  const data: Record<string, unknown> = { title: 'Hello', count: 3, tags: ['a', 'b'] };
  if (shadow && q === 'dropped') delete data.count;
  if (shadow && q === 'changed') data.count = 4;
  if (shadow && q === 'extra') data.extra = true;
  return {
    data,
    meta: { requestId: randomUUID(), at: `${Date.now()}.${Math.random()}` },
    items: [
      { id: randomUUID(), name: 'one' },
      { id: randomUUID(), name: 'two' },
    ],
  };
}

function plain(url: string, res: ServerResponse, shadow: boolean, hanging: Array<() => void>) {
  if (url.startsWith('/plain/big')) return sendJson(res, { blob: 'x'.repeat(4096) });
  if (url.startsWith('/plain/broken')) return sendJson(res, shadow ? { ok: true } : '{oops');
  if (url.startsWith('/plain/events')) {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.end('data: {"x":1}\n\n');
    return;
  }
  if (url.startsWith('/plain/hang') && shadow) {
    hanging.push(() => res.destroy());
    return;
  }
  sendJson(res, { ok: true });
}

describe('shadow numbers an operator can promote on (fake backends: noise, oversized, broken, hanging)', () => {
  let backends: Backends;
  let gw: GatewayHandle;
  let cleanup: () => Promise<void>;
  const hanging: Array<() => void> = [];
  const events: ShadowEvent[] = [];

  beforeAll(async () => {
    backends = await startBackends({
      legacy: (req, res) => {
        if (req.url!.startsWith('/noisy')) return sendJson(res, noisy(req.url!, false));
        if (req.url!.startsWith('/plain')) return plain(req.url!, res, false, hanging);
        sendJson(res, { backend: 'legacy', method: req.method });
      },
      modern: (req, res) => {
        if (req.url!.startsWith('/noisy')) return sendJson(res, noisy(req.url!, true));
        if (req.url!.startsWith('/plain')) return plain(req.url!, res, true, hanging);
        sendJson(res, { backend: 'legacy', method: req.method });
      },
    });
    const t = await tempDir();
    cleanup = t.cleanup;
    const file = await writeTable(
      t.dir,
      table(`settings:
  shadowMaxSamples: 5
routes:
  - id: noisy
    path: /noisy*
    backend: legacy
    shadow:
      backend: modern
      noise: { mode: learn, sampleRate: 1, warmupPairs: 3 }
  - id: plain
    path: /plain*
    backend: legacy
    shadow: { backend: modern, maxBodyBytes: 1024, timeoutMs: 1000 }
  - id: writes
    path: /write*
    backend: legacy
    shadow: { backend: modern, methods: [POST], mirrorWrites: true }
  - id: default
    path: /*
    backend: legacy
`),
    );
    gw = await startGateway({ routesFile: file, env: backends.env, adminToken: TOKEN });
    gw.gateway.events.on('shadow', (e: ShadowEvent) => events.push(e));
  });
  afterAll(async () => {
    for (const release of hanging) release();
    await gw?.close();
    await backends?.close();
    await cleanup?.();
  });

  /** Sends a request and waits until its mirror has an outcome. */
  async function mirrored(path: string, init: Parameters<typeof call>[1] = {}): Promise<ShadowEvent> {
    const before = events.length;
    const res = await call(`${gw.url}${path}`, init);
    expect(res.status).toBe(200);
    await expect.poll(() => events.length, { timeout: 10_000 }).toBeGreaterThan(before);
    return events[before]!;
  }
  const admin = async <T>(path: string, init: Parameters<typeof call>[1] = {}) => {
    const res = await call(`${gw.adminUrl}${path}`, { ...init, headers: { ...auth, ...init.headers } });
    expect(res.status, res.text).toBe(200);
    return res.json<T>();
  };
  const stats = async (route: string) =>
    (await admin<{ routes: Array<{ id: string; shadow: Numbers }> }>('/admin/stats')).routes.find(
      (r) => r.id === route,
    )!.shadow;

  it('learns noise first (not compared while warming up), then a random id and timestamp give 0% mismatch', async () => {
    // warmupPairs: 3: the third request's own pair completes the warm-up
    for (let i = 0; i < 2; i++) {
      expect(await mirrored('/noisy')).toMatchObject({ result: 'not_compared', reason: 'learning_noise' });
    }
    for (let i = 0; i < 21; i++) expect((await mirrored(`/noisy?i=${i}`)).result).toBe('match');
    const s = await stats('noisy');
    expect(s).toMatchObject({ compared: 21, matched: 21, mismatched: 0, mismatchRate: 0, notCompared: 2 });
    expect(s.notComparedBy.learning_noise).toBe(2);
    // 0 of 20 is not "certainly 0%": the interval says how sure
    expect(s.mismatchRateInterval.lower).toBe(0);
    expect(s.mismatchRateInterval.upper).toBeGreaterThan(0.1);
    // the second request to the served backend is marked as a mirror too
    const twins = backends.legacy.requests.filter((r) => r.url.startsWith('/noisy'));
    expect(twins.filter((r) => r.headers['x-pilot-shadow'] === '1').length).toBe(23);
  });

  it('lists learned noise with the pairs that taught each path', async () => {
    const { noise } = await admin<{ noise: { pairs: number; activePaths: number; paths: NoisePath[] } }>(
      '/admin/routes/noisy/shadow/noise',
    );
    expect(noise.pairs).toBe(23);
    const taught = Object.fromEntries(noise.paths.map((p) => [p.path, p.pairs]));
    expect(taught).toEqual({ 'meta.requestId': 23, 'meta.at': 23, 'items.*.id': 23 });
    expect(noise.paths.every((p) => p.state === 'learned')).toBe(true);
  });

  it('still counts a dropped field, a changed value, and a field only the shadow has', async () => {
    const dropped = await mirrored('/noisy?case=dropped');
    expect(dropped.result).toBe('mismatch');
    expect(dropped.sample!.differences.map((d) => d.path)).toEqual(['data.count']);
    const changed = await mirrored('/noisy?case=changed');
    expect(changed.sample!.differences).toEqual([{ path: 'data.count', primary: 3, shadow: 4 }]);
    // differs between served and shadow, never between two served answers: never learned
    const extra = await mirrored('/noisy?case=extra');
    expect(extra.sample!.differences.map((d) => d.path)).toEqual(['data.extra']);
    const s = await stats('noisy');
    expect(s).toMatchObject({ compared: 24, mismatched: 3 });
    expect(s.mismatchRate).toBeCloseTo(3 / 24, 5);
  });

  it('ranks the differing paths with one example each', async () => {
    const d = await admin<{ paths: PathCount[]; statuses: unknown[] }>(
      '/admin/routes/noisy/shadow/differences',
    );
    expect(d.paths.map((p) => [p.path, p.count])).toEqual([
      ['data.count', 2],
      ['data.extra', 1],
    ]);
    expect(d.paths[0]?.example).toMatchObject({
      method: 'GET',
      path: '/noisy?case=dropped',
      field: 'data.count',
    });
    expect(d.statuses).toEqual([]);
  });

  it('rejects and pins learned paths from the admin API', async () => {
    await admin('/admin/routes/noisy/shadow/noise/reject', { method: 'POST', body: '{"path":"meta.at"}' });
    const rejected = await mirrored('/noisy');
    expect(rejected.result).toBe('mismatch');
    expect(rejected.sample!.differences.map((d) => d.path)).toEqual(['meta.at']);
    await admin('/admin/routes/noisy/shadow/noise/pin', { method: 'POST', body: '{"path":"meta.at"}' });
    expect((await mirrored('/noisy')).result).toBe('match');
    const { noise } = await admin<{ noise: { paths: NoisePath[] } }>('/admin/routes/noisy/shadow/noise');
    expect(noise.paths.find((p) => p.path === 'meta.at')?.state).toBe('pinned');
    const audit = await admin<{ entries: Array<{ action: string }> }>('/admin/audit');
    expect(audit.entries.map((e) => e.action)).toEqual(
      expect.arrayContaining(['shadow-noise-reject', 'shadow-noise-pin']),
    );
    const bad = await call(`${gw.adminUrl}/admin/routes/noisy/shadow/noise/pin`, {
      method: 'POST',
      headers: auth,
      body: '{}',
    });
    expect(bad.status).toBe(422);
  });

  it('counts answers it cannot judge as not compared, by reason, never as a match', async () => {
    expect(await mirrored('/plain/big')).toMatchObject({ result: 'not_compared', reason: 'too_large' });
    expect(await mirrored('/plain/broken')).toMatchObject({ result: 'not_compared', reason: 'not_json' });
    expect(await mirrored('/plain/events')).toMatchObject({ result: 'not_compared', reason: 'streaming' });
    // the client has its answer while the mirror still hangs; the mirror's deadline ends it
    const before = events.length;
    const res = await call(`${gw.url}/plain/hang`);
    expect(res.status).toBe(200);
    expect(gw.gateway.shadows.inFlight).toBe(1);
    await expect.poll(() => events.length, { timeout: 10_000 }).toBeGreaterThan(before);
    expect(events[before]).toMatchObject({ result: 'not_compared', reason: 'shadow_timeout' });
    expect((await mirrored('/plain/ok')).result).toBe('match');

    const s = await stats('plain');
    expect(s).toMatchObject({ mirrored: 5, compared: 1, matched: 1, mismatched: 0, notCompared: 4 });
    expect(s.notComparedBy).toMatchObject({ too_large: 1, not_json: 1, streaming: 1, shadow_timeout: 1 });

    const metrics = (await call(`${gw.adminUrl}/metrics`)).text;
    expect(metrics).toContain('gateway_shadow_not_compared_total{route="plain",reason="too_large"} 1');
    expect(metrics).toContain('gateway_shadow_requests_total{route="plain",result="not_compared"} 4');
    expect(metrics).toContain('gateway_shadow_requests_total{route="plain",result="match"} 1');
    expect(metrics).toContain('gateway_shadow_compared_total{route="noisy"} 26');
    expect(metrics).toMatch(/gateway_shadow_mismatch_ratio\{route="noisy",bound="upper"\} 0\.\d+/);
    expect(metrics).toMatch(/gateway_shadow_noise_paths\{route="noisy"\} 3/);

    const overview = await admin<{ routes: Array<Numbers & { id: string }> }>('/admin/shadow');
    const plainRoute = overview.routes.find((r) => r.id === 'plain');
    expect(plainRoute).toMatchObject({ notCompared: 4, compared: 1, mismatchRate: 0 });
  });

  it('strips x-pilot-shadow from client requests; only the mirror carries it', async () => {
    const before = Date.now();
    await mirrored('/plain/ok?marker=1', {
      headers: {
        'x-pilot-shadow': '1',
        'x-pilot-shadow-at': '1',
        'x-client-said': 'kept',
        host: 'client.example',
      },
    });
    const served = backends.legacy.requests.filter((r) => r.url === '/plain/ok?marker=1');
    const mirror = backends.modern.requests.filter((r) => r.url === '/plain/ok?marker=1');
    expect(served.map((r) => [r.headers['x-pilot-shadow'], r.headers['x-pilot-shadow-at']])).toEqual([
      [undefined, undefined],
    ]);
    expect(mirror.map((r) => r.headers['x-pilot-shadow'])).toEqual(['1']);
    // the mirror's own Host, the client's other headers as sent, each once
    expect(mirror[0]!.headers.host).toBe(new URL(backends.modern.url).host);
    expect(mirror[0]!.headers['x-client-said']).toBe('kept');
    expect(mirror[0]!.headers['x-forwarded-host']).toBe('client.example');
    // when the gateway received it: the backend's dry run tells this request's own write from older ones
    const at = Number(mirror[0]!.headers['x-pilot-shadow-at']);
    expect(at).toBeGreaterThanOrEqual(before);
    expect(at).toBeLessThanOrEqual(Date.now());
  });

  it('mirrors a write only on a mirrorWrites route, marked, with its body', async () => {
    const e = await mirrored('/write', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"a":1}',
    });
    expect(e.result).toBe('match');
    const mirror = backends.modern.requests.filter((r) => r.url === '/write');
    expect(mirror).toMatchObject([{ method: 'POST', body: '{"a":1}', headers: { 'x-pilot-shadow': '1' } }]);
    const before = backends.modern.requests.length;
    await call(`${gw.url}/plain/x`, { method: 'POST', body: '{}' });
    expect(backends.modern.requests.length).toBe(before);
  });

  it('downloads the stored samples as JSON Lines, newest first', async () => {
    const res = await call(`${gw.adminUrl}/admin/shadow/samples.jsonl?route=noisy`, { headers: auth });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/jsonl/);
    expect(res.headers['content-disposition']).toContain('shadow-samples-noisy.jsonl');
    const lines = res.text
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as ShadowSample);
    expect(lines.map((l) => l.path)).toEqual([
      '/noisy',
      '/noisy?case=extra',
      '/noisy?case=changed',
      '/noisy?case=dropped',
    ]);
    expect(JSON.parse(lines[1]!.shadow.body).data.extra).toBe(true);
    const summaries = await admin<{ samples: Array<{ id: string }> }>('/admin/shadow/samples?route=noisy');
    expect(summaries.samples.map((s) => s.id)).toEqual(lines.map((l) => l.id));
  });

  it("resets a route's numbers and samples, keeping its learned noise", async () => {
    await admin('/admin/routes/noisy/shadow/reset', { method: 'POST' });
    const s = await stats('noisy');
    expect(s).toMatchObject({ mirrored: 0, compared: 0, mismatchRate: null });
    expect((await admin<{ samples: unknown[] }>('/admin/shadow/samples?route=noisy')).samples).toEqual([]);
    expect((await mirrored('/noisy')).result).toBe('match');
  });
});
