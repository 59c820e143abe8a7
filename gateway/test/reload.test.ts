import { writeFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayHandle } from '../src/index.ts';
import {
  auth,
  type Backends,
  call,
  client,
  runConcurrent,
  startBackends,
  startGateway,
  TOKEN,
  table,
  tempDir,
} from './helpers.ts';

const routes = (weights: string) => `routes:
  - id: subscribers
    path: /subscribers*
    split: ${weights}
  - id: default
    path: /*
    backend: legacy
`;

interface ReloadEvent {
  ok: boolean;
  version: string;
  reason: string;
  error?: string;
}

describe('reloading the route table (fake backends)', () => {
  let backends: Backends;
  let gw: GatewayHandle;
  let file: string;
  let cleanup: () => Promise<void>;
  const agent = client(16);
  const slow: { release?: () => void } = {};

  beforeAll(async () => {
    backends = await startBackends({
      legacy: (req, res) => {
        if (req.url === '/slow') {
          slow.release = () => res.end('slow done');
          return;
        }
        res.end('legacy');
      },
      modern: (_req, res) => {
        res.end('modern');
      },
    });
    const t = await tempDir();
    cleanup = t.cleanup;
    file = `${t.dir}/routes.yaml`;
    await writeFile(file, table(routes('{ legacy: 90, modern: 10 }')));
    gw = await startGateway({
      routesFile: file,
      env: backends.env,
      adminToken: TOKEN,
      sighup: true,
      accessLog: false,
    });
  });
  afterAll(async () => {
    await agent.close();
    await gw.close();
    await backends.close();
    await cleanup();
  });

  const nextReload = () =>
    new Promise<ReloadEvent>((resolve) => gw.gateway.events.once('reload', (e: ReloadEvent) => resolve(e)));

  it('reloads when the file changes, and shows the new version', async () => {
    const before = gw.gateway.table.version;
    const reloaded = nextReload();
    await writeFile(file, table(routes('{ legacy: 0, modern: 100 }')));
    const e = await reloaded;
    expect(e).toMatchObject({ ok: true, reason: 'file' });
    expect(e.version).not.toBe(before);
    const view = await call(`${gw.adminUrl}/admin/table`, { headers: auth });
    expect(view.json<{ version: string }>().version).toBe(e.version);
    expect((await call(`${gw.url}/subscribers`)).text).toBe('modern');
  });

  it('reloads on SIGHUP', async () => {
    const reloaded = nextReload();
    process.kill(process.pid, 'SIGHUP');
    expect(await reloaded).toMatchObject({ ok: true, reason: 'SIGHUP' });
  });

  it('refuses an invalid table, names the problem, and keeps serving the previous one', async () => {
    const version = gw.gateway.table.version;
    const reloaded = nextReload();
    await writeFile(file, table(routes('{ legacy: 50, modern: 60 }')));
    const e = await reloaded;
    expect(e.ok).toBe(false);
    expect(e.error).toMatch(
      /routes\.yaml:7:\d+ routes\[0\]\.split: weights must add up to 100 \(they add up to 110\)/,
    );
    expect(gw.gateway.table.version).toBe(version);
    expect((await call(`${gw.url}/subscribers`)).text).toBe('modern');
    const view = await call(`${gw.adminUrl}/admin/table`, { headers: auth });
    expect(
      view.json<{ lastReload: { ok: boolean; issues: Array<{ path: string; line: number }> } }>().lastReload,
    ).toMatchObject({
      ok: false,
      issues: [{ path: 'routes[0].split', line: 7 }],
    });
    const admin = await call(`${gw.adminUrl}/admin/reload`, { method: 'POST', headers: auth });
    expect(admin.status).toBe(422);
    expect(admin.json<{ error: { code: string } }>().error.code).toBe('TABLE_INVALID');
    const metrics = await call(`${gw.adminUrl}/metrics`);
    expect(metrics.text).toMatch(/gateway_table_reloads_total\{result="error"\} [1-9]/);
  });

  it('finishes a request in flight across a reload', async () => {
    const pending = call(`${gw.url}/slow`);
    while (!slow.release) await new Promise((r) => setImmediate(r));
    const reloaded = nextReload();
    await writeFile(file, table(routes('{ legacy: 100, modern: 0 }')));
    expect((await reloaded).ok).toBe(true);
    slow.release();
    const res = await pending;
    expect(res.status).toBe(200);
    expect(res.text).toBe('slow done');
  });

  it('loses zero requests while the table is reloaded again and again under load', {
    timeout: 120_000,
  }, async () => {
    let stop = false;
    let reloads = 0;
    const flipper = (async () => {
      const weights = [
        '{ legacy: 90, modern: 10 }',
        '{ legacy: 50, modern: 50 }',
        '{ legacy: 10, modern: 90 }',
      ];
      while (!stop) {
        const reloaded = nextReload();
        await writeFile(file, table(routes(weights[reloads % weights.length]!)));
        await reloaded;
        reloads++;
        if (reloads % 3 === 0) await gw.gateway.reload('admin');
      }
    })();
    const results = await runConcurrent(3000, 16, async (i) => {
      const res = await call(`${gw.url}/subscribers?i=${i}`, {
        method: i % 3 === 0 ? 'POST' : 'GET',
        body: i % 3 === 0 ? '{}' : undefined,
        dispatcher: agent,
      });
      return `${res.status} ${res.text}`;
    });
    stop = true;
    await flipper;
    expect(reloads).toBeGreaterThanOrEqual(3);
    const failures = results.filter((r) => r !== '200 legacy' && r !== '200 modern');
    expect(failures).toEqual([]);
  });
});
