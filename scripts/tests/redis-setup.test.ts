import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, portAnswers } from '../lib/ports.ts';
import { SetupError } from '../setup/commands.ts';
import { pingRedis, redisForTests } from '../setup/redis.ts';

/**
 * A stand-in `redis-server` (fake, so these tests do not depend on which Redis the machine has):
 * records its arguments, listens on --port, answers +PONG to PING and -NOAUTH when started with
 * --requirepass and no AUTH came first.
 */
const FAKE_REDIS = `#!${process.execPath}
const net = require('node:net');
const fs = require('node:fs');
const args = process.argv.slice(2);
fs.writeFileSync(process.env.FAKE_REDIS_ARGS, JSON.stringify(args));
const port = Number(args[args.indexOf('--port') + 1]);
const password = args.includes('--requirepass') ? args[args.indexOf('--requirepass') + 1] : null;
net.createServer((socket) => {
  let authed = !password;
  socket.on('data', (chunk) => {
    const text = chunk.toString();
    if (text.includes('AUTH')) { authed = text.includes(password); socket.write(authed ? '+OK\\r\\n' : '-WRONGPASS invalid\\r\\n'); }
    if (text.includes('PING')) socket.write(authed ? '+PONG\\r\\n' : '-NOAUTH Authentication required.\\r\\n');
  });
}).listen(port, '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
`;

describe('redisForTests (fake redis-server)', () => {
  let dir: string;
  let bin: string;
  const logs: string[] = [];
  const context = (env: NodeJS.ProcessEnv, canInstall = false) => ({
    log: (line: string) => logs.push(line),
    env: { PATH: bin, FAKE_REDIS_ARGS: join(dir, 'args.json'), ...env },
    canInstall,
  });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pilot-redis-setup-'));
    bin = join(dir, 'bin');
    await mkdir(bin);
    await writeFile(join(bin, 'redis-server'), FAKE_REDIS);
    await chmod(join(bin, 'redis-server'), 0o755);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('starts a throwaway server without persistence on a free port when nothing answers at REDIS_URL, and stops it by pid', async () => {
    const dead = await freePort();
    const redis = await redisForTests(context({ REDIS_URL: `redis://127.0.0.1:${dead}` }));
    try {
      expect(redis.source).toBe('started');
      expect(redis.url).not.toBe(`redis://127.0.0.1:${dead}`);
      expect(await pingRedis(redis.url)).toEqual({ ok: true });
      const args = JSON.parse(await readFile(join(dir, 'args.json'), 'utf8')) as string[];
      expect(args).toEqual(
        expect.arrayContaining(['--save', '', '--appendonly', 'no', '--bind', '127.0.0.1']),
      );
      expect(logs.at(-1)).toMatch(/started a throwaway redis-server at redis:\/\/127\.0\.0\.1:\d+ \(pid \d+/);
    } finally {
      await redis.stop();
    }
    const port = Number(new URL(redis.url).port);
    expect(await portAnswers(port)).toBe(false);
    expect(() => process.kill(redis.pid!, 0)).toThrow();
  });

  it('uses a Redis that already answers at REDIS_URL as it is and never stops it', async () => {
    const first = await redisForTests(context({ REDIS_URL: `redis://127.0.0.1:${await freePort()}` }));
    try {
      const second = await redisForTests(context({ REDIS_URL: first.url }));
      expect(second).toMatchObject({ url: first.url, source: 'existing' });
      await second.stop();
      expect(await pingRedis(first.url)).toEqual({ ok: true });
    } finally {
      await first.stop();
    }
  });

  it('fails with one line naming the package when redis-server is missing and it may not install', async () => {
    const empty = join(dir, 'empty');
    await mkdir(empty, { recursive: true });
    const attempt = redisForTests({
      log: () => {},
      env: { PATH: empty, REDIS_URL: `redis://127.0.0.1:${await freePort()}` },
      canInstall: false,
    });
    await expect(attempt).rejects.toBeInstanceOf(SetupError);
    await expect(attempt).rejects.toThrow(
      /^the tests \(real Redis\) need redis-server, which is not installed: run `sudo apt-get install redis-server`/,
    );
  });
});

describe('pingRedis', () => {
  let server: Server;
  let port: number;
  const sockets = new Set<Socket>();
  beforeAll(async () => {
    // Something that is not Redis: accepts and answers in HTTP.
    server = createServer((socket) => {
      sockets.add(socket);
      socket.end('HTTP/1.1 400 Bad Request\r\n\r\n');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('is not fooled by a port that answers something else', async () => {
    expect((await pingRedis(`redis://127.0.0.1:${port}`, 500)).ok).toBe(false);
  });

  it('says why for a closed port and for a URL that is not Redis', async () => {
    expect(await pingRedis(`redis://127.0.0.1:${await freePort()}`)).toMatchObject({
      ok: false,
      reason: expect.stringContaining('ECONNREFUSED'),
    });
    expect(await pingRedis('http://127.0.0.1:6379')).toMatchObject({
      ok: false,
      reason: expect.stringContaining('redis://'),
    });
  });
});
