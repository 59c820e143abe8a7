import { Writable } from 'node:stream';
import { createMemoryContent } from '@pilot/content';
import { REDACT_PATHS } from '@pilot/service-kit';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { call, closeTestRedis, expectEnvelope, startApp } from './helpers.ts';

afterAll(async () => {
  await closeTestRedis();
});

describe('the error handler', () => {
  it('answers an unexpected failure as a generic 500 and logs it with the request', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
        done();
      },
    });
    const content = createMemoryContent();
    content.listArticles = async () => {
      throw new Error('database password is hunter2 (at /srv/db.ts:12)');
    };
    const app = await startApp({
      content,
      logger: pino({ level: 'info', redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, sink),
    });
    try {
      const res = await call(`${app.url}/articles`, {
        headers: { 'x-request-id': 'boom-1', authorization: 'Bearer s3cret' },
      });
      const envelope = expectEnvelope(res, 500, 'INTERNAL');
      expect(envelope.error.message).toBe('Something went wrong on our side.');
      expect(JSON.stringify(res.body)).not.toContain('hunter2');
      expect(res.headers.get('x-request-id')).toBe('boom-1');
      const logged = lines.find((l) => l.requestId === 'boom-1' && l.level === 50);
      expect(logged).toMatchObject({
        err: { message: expect.stringContaining('hunter2'), stack: expect.any(String) },
        req: { method: 'GET', url: '/articles' },
        res: { statusCode: 500 },
      });
      expect(JSON.stringify(logged)).not.toContain('s3cret');
    } finally {
      await app.close();
    }
  });

  it('keeps serving after a failure', async () => {
    const content = createMemoryContent();
    content.getArticle = async () => {
      throw new TypeError('undefined is not a function');
    };
    const app = await startApp({ content });
    try {
      expectEnvelope(await call(`${app.url}/articles/x`), 500, 'INTERNAL');
      expect((await call(`${app.url}/articles?pageSize=1`)).status).toBe(200);
    } finally {
      await app.close();
    }
  });
});
