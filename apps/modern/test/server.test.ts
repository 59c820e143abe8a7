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
    timeout: 60_000,
  }, async () => {
    const strapi = await startFakeStrapi({ collections: { articles: [] } });
    const child = spawn(process.execPath, [fileURLToPath(new URL('../src/server.ts', import.meta.url))], {
      env: { ...process.env, ...env(strapi.url), LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      let out = '';
      child.stdout.setEncoding('utf8');
      await new Promise<void>((resolve) => {
        child.stdout.on('data', (chunk: string) => {
          out += chunk;
          if (out.includes('Server listening')) resolve();
        });
      });
      child.kill('SIGTERM');
      const [code] = await once(child, 'exit');
      expect(code).toBe(0);
      expect(out).toContain('shutting down');
    } finally {
      child.kill('SIGKILL');
      await strapi.close();
    }
  });
});
