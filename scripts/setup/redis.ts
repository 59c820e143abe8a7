// The Redis the tests use: the one answering at REDIS_URL, used as it is (tests only touch their
// own key prefixes), else a throwaway redis-server without persistence on a free port, stopped
// by its pid when the run ends.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect as netConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { freePort } from '../lib/ports.ts';
import { ensureCommand, type SetupContext, SetupError } from './commands.ts';

export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

export type PingResult = { ok: true } | { ok: false; reason: string };

function command(...parts: string[]): string {
  return `*${parts.length}\r\n${parts.map((p) => `$${Buffer.byteLength(p)}\r\n${p}\r\n`).join('')}`;
}

/** PING over RESP (after AUTH when the URL has credentials); nothing but node:net. */
export function pingRedis(url: string, timeoutMs = 1500): Promise<PingResult> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return Promise.resolve({ ok: false, reason: `REDIS_URL=${url} is not a URL` });
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:')
    return Promise.resolve({ ok: false, reason: `REDIS_URL=${url} is not a redis:// or rediss:// URL` });
  const host = parsed.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1';
  const port = Number(parsed.port || 6379);
  return new Promise((resolve) => {
    const socket: Socket =
      parsed.protocol === 'rediss:'
        ? tlsConnect({ host, port, servername: host })
        : netConnect({ host, port });
    let buffer = '';
    let settled = false;
    const finish = (result: PingResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(
      () => finish({ ok: false, reason: `no answer within ${timeoutMs} ms` }),
      timeoutMs,
    );
    socket.once('error', (error) => finish({ ok: false, reason: error.message }));
    socket.once('close', () => finish({ ok: false, reason: 'connection closed without an answer to PING' }));
    socket.once(parsed.protocol === 'rediss:' ? 'secureConnect' : 'connect', () => {
      let out = '';
      if (parsed.password) {
        const user = decodeURIComponent(parsed.username);
        const password = decodeURIComponent(parsed.password);
        out += user ? command('AUTH', user, password) : command('AUTH', password);
      }
      socket.write(out + command('PING'));
    });
    socket.on('data', (chunk) => {
      buffer += chunk.toString('latin1');
      const lines = buffer.split('\r\n');
      buffer = lines.pop() ?? '';
      for (const line of lines) {
        if (line === '+PONG') return finish({ ok: true });
        if (line === '+OK') continue; // AUTH accepted
        if (line.startsWith('-')) return finish({ ok: false, reason: `Redis answered ${line.slice(1)}` });
        return finish({
          ok: false,
          reason: `answered ${JSON.stringify(line.slice(0, 40))}, which is not Redis`,
        });
      }
      if (buffer.length > 1024) finish({ ok: false, reason: 'answered something that is not Redis' });
    });
  });
}

export interface TestRedis {
  url: string;
  /** `existing`: the one at REDIS_URL; `started`: a throwaway one this run started. */
  source: 'existing' | 'started';
  pid?: number;
  stop(): Promise<void>;
}

async function waitForPing(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new SetupError(`redis-server exited with code ${child.exitCode} at start`);
    const result = await pingRedis(url, 500);
    if (result.ok) return;
    last = result.reason;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new SetupError(`redis-server did not answer at ${url} within ${timeoutMs} ms (${last})`);
}

/** A Redis for the tests: REDIS_URL's when it answers, else a throwaway one (installed first when allowed). */
export async function redisForTests(context: SetupContext): Promise<TestRedis> {
  const url = context.env.REDIS_URL || DEFAULT_REDIS_URL;
  const existing = await pingRedis(url);
  if (existing.ok) {
    context.log(`redis: using the one answering at ${url} (tests write only under their own key prefixes)`);
    return { url, source: 'existing', stop: async () => {} };
  }
  if (/^Redis answered (NOAUTH|WRONGPASS)/.test(existing.reason))
    throw new SetupError(
      `Redis at ${url} refuses the tests (${existing.reason}): put its credentials in REDIS_URL`,
    );
  const server = await ensureCommand(
    { names: ['redis-server'], aptPackage: 'redis-server', neededFor: 'the tests (real Redis)' },
    context,
  );
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'pilot-test-redis-'));
  // No persistence, loopback only, own working directory: nothing outlives the run.
  const child = spawn(
    server,
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
      '--daemonize',
      'no',
    ],
    { stdio: 'ignore', env: context.env },
  );
  const started: TestRedis = {
    url: `redis://127.0.0.1:${port}`,
    source: 'started',
    pid: child.pid,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
  try {
    await waitForPing(started.url, child, 10_000);
  } catch (error) {
    await started.stop();
    throw error;
  }
  context.log(
    `redis: nothing answers at ${url} (${existing.reason}); started a throwaway redis-server at ${started.url} ` +
      `(pid ${child.pid}, no persistence, stopped when the run ends)`,
  );
  return started;
}
