import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { startFakeStrapi } from '@pilot/strapi-client/testing';
import { describe, expect, it } from 'vitest';
import { start } from '../src/server.ts';
import { WEBHOOK_SECRET } from './helpers.ts';

const env = (strapiUrl: string) => ({
  NODE_ENV: 'test',
  LOG_LEVEL: 'silent',
  STRAPI_URL: strapiUrl,
  WEBHOOK_SECRET,
  MODERN_PORT: '0',
});

describe('server.ts (fake Strapi)', () => {
  it('listens on MODERN_PORT with the Strapi-backed deps, answers, and closes', async () => {
    const strapi = await startFakeStrapi({ collections: { articles: [] } });
    const server = await start(env(strapi.url));
    try {
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect((await fetch(`${server.url}/health`)).status).toBe(200);
      const ready = await fetch(`${server.url}/ready`);
      expect(await ready.json()).toEqual({ status: 'ready', checks: { strapi: 'up', redis: 'disabled' } });
      const list = await fetch(`${server.url}/articles`);
      expect(list.status).toBe(200);
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      expect(metrics).toContain('service="modern"');
    } finally {
      await server.close();
      await strapi.close();
    }
    await expect(fetch(`${server.url}/health`)).rejects.toThrow();
  });

  it('refuses to start with an invalid environment, naming the variable', async () => {
    await expect(start({ NODE_ENV: 'test', AGGREGATE_TIMEOUT_MS: 'soon', MODERN_PORT: '0' })).rejects.toThrow(
      /AGGREGATE_TIMEOUT_MS/,
    );
  });

  it('`node src/server.ts` shuts down with grace on SIGTERM (close-with-grace), exit code 0', {
    timeout: 90_000, // a cold `node src/server.ts` takes seconds on a loaded 2-core machine
  }, async () => {
    const strapi = await startFakeStrapi({ collections: { articles: [] } });
    const child = spawn(process.execPath, [fileURLToPath(new URL('../src/server.ts', import.meta.url))], {
      // a generous grace period: the test is about the exit path, not about how fast a loaded machine closes
      env: { ...process.env, ...env(strapi.url), LOG_LEVEL: 'info', SHUTDOWN_TIMEOUT_MS: '60000' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // 'close', not 'exit': 'exit' may come before the last of stdout has been read
    const closed = once(child, 'close');
    try {
      let out = '';
      let err = '';
      child.stdout.setEncoding('utf8');
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (chunk: string) => (err += chunk));
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (chunk: string) => {
          out += chunk;
          if (out.includes('Server listening')) resolve();
        });
        child.once('exit', (code) => reject(new Error(`exited (${code}) before listening: ${err}`)));
      });
      child.kill('SIGTERM');
      const [code] = await closed;
      expect({ code, err }).toEqual({ code: 0, err: '' });
      expect(out).toContain('shutting down');
    } finally {
      child.kill('SIGKILL');
      await strapi.close();
    }
  });
});
