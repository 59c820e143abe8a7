import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import {
  auth,
  type Backends,
  call,
  copyDefaultTable,
  runConcurrent,
  startBackends,
  TOKEN,
  tempDir,
} from './helpers.ts';

const SERVER = fileURLToPath(new URL('../src/server.ts', import.meta.url));

interface Running {
  child: ChildProcess;
  url: string;
  adminUrl: string;
  lines: string[];
}

/** Starts `node src/server.ts` and waits until `workers` processes logged "gateway listening". */
async function startServer(env: Record<string, string>, workers = 1): Promise<Running> {
  const child = spawn(process.execPath, [SERVER], {
    env: {
      PATH: process.env.PATH ?? '',
      GATEWAY_PORT: '0',
      GATEWAY_ADMIN_PORT: '0',
      GATEWAY_HOST: '127.0.0.1',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let buffered = '';
  let stderr = '';
  child.stderr!.on('data', (d) => {
    stderr += d;
  });
  return new Promise((resolve, reject) => {
    let listening = 0;
    child.once('exit', (code) =>
      reject(new Error(`server exited with ${code}: ${stderr}${lines.join('\n')}`)),
    );
    child.stdout!.on('data', (d: Buffer) => {
      buffered += d.toString();
      let nl = buffered.indexOf('\n');
      while (nl !== -1) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        lines.push(line);
        nl = buffered.indexOf('\n');
        const entry = JSON.parse(line) as { msg: string; url?: string; adminUrl?: string };
        if (entry.msg === 'gateway listening' && ++listening === workers) {
          resolve({ child, url: entry.url!, adminUrl: entry.adminUrl!, lines });
        }
      }
    });
  });
}

function waitForLine(server: Running, text: string): Promise<void> {
  if (server.lines.some((l) => l.includes(text))) return Promise.resolve();
  return new Promise((resolve) => {
    const on = (d: Buffer) => {
      if (d.toString().includes(text)) {
        server.child.stdout!.off('data', on);
        resolve();
      }
    };
    server.child.stdout!.on('data', on);
  });
}

describe('src/server.ts (fake backends)', () => {
  const stop: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const s of stop.splice(0).reverse()) await s();
  });

  async function setup(
    handlers?: Parameters<typeof startBackends>[0],
  ): Promise<{ backends: Backends; file: string }> {
    const backends = await startBackends(handlers);
    const t = await tempDir();
    stop.push(() => backends.close(), t.cleanup);
    return { backends, file: await copyDefaultTable(t.dir) };
  }

  it('drains an in-flight request on SIGTERM, then exits 0', async () => {
    let release!: () => void;
    let arrived!: () => void;
    const inFlight = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    const { backends, file } = await setup({
      legacy: (_req, res) => {
        release = () => res.end('finished');
        arrived();
      },
    });
    const server = await startServer({
      ...backends.env,
      GATEWAY_ROUTES: file,
      GATEWAY_HEALTH_CHECKS: 'false',
    });
    stop.push(async () => {
      if (server.child.exitCode === null) server.child.kill('SIGKILL');
    });
    const pending = call(`${server.url}/me`);
    await inFlight;
    const exited = once(server.child, 'exit');
    const draining = waitForLine(server, 'shutting down');
    server.child.kill('SIGTERM');
    // the listener closes, the request in flight still completes
    await draining;
    release();
    const res = await pending;
    expect(res.status).toBe(200);
    expect(res.text).toBe('finished');
    const [code] = await exited;
    expect(code).toBe(0);
  });

  it('one worker per core: workers share the ports, admin changes and numbers', {
    timeout: 60_000,
  }, async () => {
    const { backends, file } = await setup();
    const server = await startServer(
      {
        ...backends.env,
        GATEWAY_ROUTES: file,
        GATEWAY_WORKERS: '2',
        GATEWAY_ADMIN_TOKEN: TOKEN,
        GATEWAY_HEALTH_CHECKS: 'false',
        GATEWAY_WRITE_BACK: 'false',
        GATEWAY_ACCESS_LOG: 'false',
      },
      2,
    );
    stop.push(async () => {
      const exited = once(server.child, 'exit');
      server.child.kill('SIGTERM');
      await exited;
    });
    await runConcurrent(200, 8, async () => {
      const res = await call(`${server.url}/articles`, { headers: { connection: 'close' } });
      expect(res.status).toBe(200);
    });
    // stats and metrics speak for both workers, whichever one answers
    for (let i = 0; i < 4; i++) {
      const stats = await call(`${server.adminUrl}/admin/stats?window=60`, {
        headers: { ...auth, connection: 'close' },
      });
      const body = stats.json<{
        workers: number;
        instance: string;
        routes: Array<{ id: string; backends: Record<string, { requests: number }> }>;
      }>();
      expect(body.workers).toBe(2);
      expect(body.routes.find((r) => r.id === 'articles')!.backends.modern!.requests).toBe(200);
    }
    const metrics = await call(`${server.adminUrl}/metrics`, { headers: { connection: 'close' } });
    expect(metrics.text).toMatch(
      /gateway_requests_total\{route="articles",backend="modern",status_class="2xx"\} 200/,
    );
    // a weight change (no Redis) reaches both workers through the primary
    const put = await call(`${server.adminUrl}/admin/routes/subscribers/weights`, {
      method: 'PUT',
      headers: { ...auth, 'content-type': 'application/json', connection: 'close' },
      body: '{"weights":{"legacy":0,"modern":100}}',
    });
    expect(put.status).toBe(200);
    let tries = 0;
    // both workers must have applied it: poll the table of whichever answers until both did
    const seen = new Map<string, Record<string, number>>();
    while (seen.size < 2 && tries++ < 200) {
      const t = await call(`${server.adminUrl}/admin/table`, { headers: { ...auth, connection: 'close' } });
      const view = t.json<{
        instance: string;
        routes: Array<{ id: string; weights: Record<string, number> }>;
      }>();
      seen.set(view.instance, view.routes.find((r) => r.id === 'subscribers')!.weights);
    }
    expect([...seen.values()]).toEqual([
      { legacy: 0, modern: 100 },
      { legacy: 0, modern: 100 },
    ]);
    await runConcurrent(40, 4, async (i) => {
      const res = await call(`${server.url}/subscribers`, {
        headers: { 'x-user-id': `u${i}`, connection: 'close' },
      });
      expect(res.headers['x-backend']).toBe('modern');
    });
    // shadow samples live in each worker; the admin API merges them
    await runConcurrent(6, 2, async () => {
      const res = await call(`${server.url}/aggregate`, { headers: { connection: 'close' } });
      expect(res.headers['x-backend']).toBe('legacy');
    });
    for (let i = 0; i < 4; i++) {
      await expect
        .poll(
          async () => {
            const res = await call(`${server.adminUrl}/admin/shadow/samples?route=aggregate`, {
              headers: { ...auth, connection: 'close' },
            });
            return res.json<{ samples: unknown[] }>().samples.length;
          },
          { timeout: 10_000, interval: 50 },
        )
        .toBe(6);
    }
  });
});
