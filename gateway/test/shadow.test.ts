import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayHandle } from '../src/index.ts';
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

interface ShadowEvent {
  route: string;
  result: string;
  sample?: { id: string; differences: Array<{ path: string }> };
}

describe('shadow and diff (fake backends)', () => {
  let backends: Backends;
  let gw: GatewayHandle;
  let cleanup: () => Promise<void>;
  const mode = { modern: 'same' as 'same' | 'different' | 'hang' | 'error' };
  const hanging: Array<() => void> = [];

  beforeAll(async () => {
    let n = 0;
    backends = await startBackends({
      legacy: (req, res) => {
        const body = JSON.stringify({
          data: { title: 'Hello', count: 3, path: req.url },
          meta: { generatedAt: `legacy-${n++}` },
        });
        res.writeHead(200, { 'content-type': 'application/json', 'x-served-by': 'legacy' });
        res.end(body);
      },
      modern: (req, res) => {
        if (mode.modern === 'hang') {
          // accept and never answer until the test ends
          hanging.push(() => res.destroy());
          return;
        }
        if (mode.modern === 'error') {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end('{"error":{"status":500}}');
          return;
        }
        const count = mode.modern === 'different' ? 4 : 3;
        const body = JSON.stringify({
          data: { title: 'Hello', count, path: req.url },
          meta: { generatedAt: `modern-${n++}` },
        });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(body);
      },
    });
    const t = await tempDir();
    cleanup = t.cleanup;
    const file = await writeTable(
      t.dir,
      table(`settings:
  shadowMaxConcurrent: 2
  shadowMaxSamples: 3
routes:
  - id: aggregate
    path: /aggregate*
    backend: legacy
    shadow:
      backend: modern
      ignore: [meta.generatedAt]
      timeoutMs: 5000
  - id: default
    path: /*
    backend: legacy
`),
    );
    gw = await startGateway({ routesFile: file, env: backends.env, adminToken: TOKEN });
  });
  afterAll(async () => {
    for (const release of hanging) release();
    await gw.close();
    await backends.close();
    await cleanup();
  });

  /** The next shadow outcome of interest (late outcomes of earlier hanging mirrors are skipped). */
  const nextShadow = (
    accept: (e: ShadowEvent) => boolean = (e) => e.result === 'match' || e.result === 'mismatch',
  ) =>
    new Promise<ShadowEvent>((resolve) => {
      const on = (e: ShadowEvent) => {
        if (!accept(e)) return;
        gw.gateway.events.off('shadow', on);
        resolve(e);
      };
      gw.gateway.events.on('shadow', on);
    });

  it('counts a match when only ignored paths differ', async () => {
    mode.modern = 'same';
    const result = nextShadow();
    const res = await call(`${gw.url}/aggregate`);
    expect(res.status).toBe(200);
    expect(res.headers['x-backend']).toBe('legacy');
    expect((await result).result).toBe('match');
  });

  it('counts a mismatch per route and keeps a sample with both bodies', async () => {
    mode.modern = 'different';
    const result = nextShadow();
    const res = await call(`${gw.url}/aggregate?q=1`);
    expect(res.json<{ data: { count: number } }>().data.count).toBe(3);
    const event = await result;
    expect(event.result).toBe('mismatch');
    expect(event.sample!.differences).toEqual([{ path: 'data.count', primary: 3, shadow: 4 }]);

    const list = await call(`${gw.adminUrl}/admin/shadow/samples?route=aggregate`, { headers: auth });
    const samples = list.json<{ samples: Array<{ id: string; path: string }> }>().samples;
    expect(samples[0]!.path).toBe('/aggregate?q=1');
    const one = await call(`${gw.adminUrl}/admin/shadow/samples/${event.sample!.id}`, { headers: auth });
    const sample = one.json<{
      primary: { body: string; backend: string };
      shadow: { body: string; backend: string };
    }>();
    expect(sample.primary.backend).toBe('legacy');
    expect(JSON.parse(sample.primary.body).data.count).toBe(3);
    expect(JSON.parse(sample.shadow.body).data.count).toBe(4);

    const metrics = await call(`${gw.adminUrl}/metrics`);
    expect(metrics.text).toMatch(/gateway_shadow_mismatches_total\{route="aggregate"\} 1/);
  });

  it('keeps a bounded number of samples', async () => {
    mode.modern = 'different';
    for (let i = 0; i < 5; i++) {
      const result = nextShadow();
      await call(`${gw.url}/aggregate?i=${i}`);
      await result;
    }
    expect(gw.gateway.shadows.samples.list('aggregate').length).toBe(3);
  });

  it('never changes the client response: a failing shadow still gives the client legacy bytes', async () => {
    mode.modern = 'error';
    const result = nextShadow();
    const res = await call(`${gw.url}/aggregate`);
    expect(res.status).toBe(200);
    expect(res.headers['x-served-by']).toBe('legacy');
    expect(res.json<{ data: { title: string } }>().data.title).toBe('Hello');
    expect((await result).result).toBe('mismatch');
  });

  it('answers the client long before a hanging shadow times out, while the mirror is still pending', async () => {
    mode.modern = 'hang';
    const started = Date.now();
    const res = await call(`${gw.url}/aggregate`);
    const elapsed = Date.now() - started;
    expect(res.status).toBe(200);
    expect(res.headers['x-backend']).toBe('legacy');
    // the proof that does not depend on timing: the mirror has not finished, the client has its answer
    expect(gw.gateway.shadows.inFlight).toBe(1);
    // the one timing bound this suite allows, generous: the shadow's deadline is 5 s
    expect(elapsed).toBeLessThan(4000);
  });

  it('drops mirrors beyond shadowMaxConcurrent instead of queueing them', async () => {
    mode.modern = 'hang';
    const dropped: string[] = [];
    const onShadow = (e: ShadowEvent) => {
      if (e.result.startsWith('dropped')) dropped.push(e.result);
    };
    gw.gateway.events.on('shadow', onShadow);
    const replies = await Promise.all(Array.from({ length: 4 }, () => call(`${gw.url}/aggregate`)));
    gw.gateway.events.off('shadow', onShadow);
    for (const r of replies) expect(r.status).toBe(200);
    // one mirror from the previous test still hangs; the limit is 2
    expect(gw.gateway.shadows.inFlight).toBe(2);
    expect(dropped).toEqual(['dropped_concurrency', 'dropped_concurrency', 'dropped_concurrency']);
  });

  it('does not mirror while paused, and again after resume', async () => {
    for (const release of hanging.splice(0)) release();
    mode.modern = 'same';
    const paused = await call(`${gw.adminUrl}/admin/routes/aggregate/shadow/pause`, {
      method: 'POST',
      headers: auth,
    });
    expect(paused.json<{ route: { shadow: { paused: boolean } } }>().route.shadow.paused).toBe(true);
    const before = backends.modern.requests.length;
    await call(`${gw.url}/aggregate`);
    await call(`${gw.url}/aggregate`);
    expect(backends.modern.requests.length).toBe(before);

    await call(`${gw.adminUrl}/admin/routes/aggregate/shadow/resume`, { method: 'POST', headers: auth });
    const result = nextShadow();
    await call(`${gw.url}/aggregate`);
    expect((await result).result).toBe('match');
    const mirrored = backends.modern.requests.at(-1)!;
    expect(mirrored.headers['x-pilot-shadow']).toBe('1');
  });

  it('does not mirror unsafe methods unless the route lists them', async () => {
    const before = backends.modern.requests.length;
    const res = await call(`${gw.url}/aggregate`, { method: 'POST', body: '{"a":1}' });
    expect(res.status).toBe(200);
    expect(backends.modern.requests.length).toBe(before);
  });
});
