import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createAuthService } from '@pilot/auth';
import { createMemoryContent } from '@pilot/content';
import { ArticleListResponse } from '@pilot/contracts';
import { createLogger } from '@pilot/service-kit';
import { startTestServer, type TestServer } from '@pilot/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import { createApp, listen } from '../src/index.ts';
import { testConfig } from './helpers.ts';

function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** An app whose GET /articles waits in the handler until the test releases it. */
async function appWithGate() {
  const entered = deferred();
  const gate = deferred();
  const content = createMemoryContent();
  const list = content.listArticles;
  content.listArticles = async (query) => {
    entered.resolve();
    await gate.promise;
    return list(query);
  };
  const config = testConfig();
  const app = createApp({
    config,
    logger: createLogger({ service: 'legacy', level: 'silent' }),
    content,
    auth: createAuthService({
      users: config.AUTH_USERS,
      jwtSecret: config.JWT_SECRET,
      issuer: config.JWT_ISSUER,
    }),
  });
  const running = await listen(app, { host: '127.0.0.1', port: 0 });
  return { running, entered: entered.promise, release: () => gate.resolve() };
}

describe('graceful shutdown (in process)', () => {
  it('finishes the request in flight, accepts no new connection, then closes', async () => {
    const { running, entered, release } = await appWithGate();
    const inFlight = fetch(`${running.url}/articles?pageSize=2`);
    await entered;
    const closed = running.close(30_000);
    expect(running.server.listening).toBe(false);
    await expect(fetch(`${running.url}/health`)).rejects.toThrow();
    release();
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(ArticleListResponse.parse(await res.json()).data).toHaveLength(2);
    expect(await closed).toEqual({ forced: false });
  });

  it('destroys what is still open when the deadline passes', async () => {
    const { running, entered, release } = await appWithGate();
    const inFlight = fetch(`${running.url}/articles`);
    await entered;
    expect(await running.close(100)).toEqual({ forced: true });
    await expect(inFlight).rejects.toThrow();
    release();
  });
});

describe('server.ts (child process, SIGTERM)', () => {
  let child: ChildProcess | undefined;
  let strapi: TestServer | undefined;
  afterEach(async () => {
    if (child && child.exitCode === null && child.signalCode === null && child.pid)
      process.kill(child.pid, 'SIGKILL');
    await strapi?.close();
  });

  it('answers the request in flight, then exits 0 (fake Strapi: held until released)', async () => {
    const arrived = deferred();
    const gate = deferred();
    strapi = await startTestServer(async (req, res) => {
      if (!req.url?.startsWith('/api/articles')) {
        res.writeHead(204).end();
        return;
      }
      arrived.resolve();
      await gate.promise;
      const at = '2025-01-01T00:00:00.000Z';
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          data: [
            {
              documentId: 'd1',
              title: 'T',
              slug: 't',
              summary: 'S',
              publishedAt: at,
              updatedAt: at,
              author: null,
            },
          ],
          meta: { pagination: { page: 1, pageSize: 25, pageCount: 1, total: 1 } },
        }),
      );
    });

    child = spawn(process.execPath, [fileURLToPath(new URL('../src/server.ts', import.meta.url))], {
      env: {
        PATH: process.env.PATH,
        NODE_ENV: 'test',
        LEGACY_PORT: '0',
        HOST: '127.0.0.1',
        LOG_LEVEL: 'info',
        STRAPI_URL: strapi.url,
        STRAPI_TIMEOUT_MS: '60000',
        REDIS_URL: '',
        SHUTDOWN_TIMEOUT_MS: '60000',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const logs: Array<Record<string, unknown>> = [];
    const waiters: Array<{ msg: string; done: (line: Record<string, unknown>) => void }> = [];
    const stderr: string[] = [];
    child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
    createInterface({ input: child.stdout! }).on('line', (text) => {
      let line: Record<string, unknown>;
      try {
        line = JSON.parse(text);
      } catch {
        return;
      }
      logs.push(line);
      for (const w of waiters.filter((w) => w.msg === line.msg)) w.done(line);
    });
    const logged = (msg: string) =>
      new Promise<Record<string, unknown>>((resolve, reject) => {
        const seen = logs.find((l) => l.msg === msg);
        if (seen) return resolve(seen);
        waiters.push({ msg, done: resolve });
        child?.once('exit', (code) =>
          reject(new Error(`exited (${code}) before "${msg}": ${stderr.join('')}`)),
        );
      });

    const listening = await logged('legacy listening');
    const url = listening.url as string;
    const inFlight = fetch(`${url}/articles`, { headers: { 'x-request-id': 'in-flight-1' } });
    await arrived.promise;
    // 'close', not 'exit': 'exit' may come before the last log lines have been read
    const exited = once(child, 'close');
    child.kill('SIGTERM');
    await logged('shutting down: finishing in-flight requests');
    gate.resolve();

    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(ArticleListResponse.parse(await res.json()).data[0]?.slug).toBe('t');
    const [code] = await exited;
    expect(code).toBe(0);
    expect(logs.map((l) => l.msg)).toContain('shutdown complete');
    const requestLog = logs.find((l) => l.requestId === 'in-flight-1' && l.msg === 'request completed');
    expect(requestLog).toMatchObject({ res: { statusCode: 200 } });
  }, 90_000); // a cold `node src/server.ts` takes seconds on a loaded 2-core machine
});
