import { Writable } from 'node:stream';
import { createLogger } from '@pilot/service-kit';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createApp } from '../src/index.ts';
import { lazyChildLogger, plainParent } from '../src/plugins/app/lazy-logger.ts';
import { testDeps } from './helpers.ts';

function capture(level: string) {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  return { lines, logger: pino({ level, base: { service: 'modern' } }, stream) };
}

describe('request logs (the same convention as legacy)', () => {
  it('one line per request, labelled requestId; 5xx at error', async () => {
    const { lines, logger } = capture('info');
    const deps = testDeps({ logger });
    const app = createApp(deps);
    deps.content.getArticle = async () => {
      throw new Error('boom');
    };
    await app.inject({ url: '/health', headers: { 'x-request-id': 'log-1' } });
    await app.inject({ url: '/articles/x', headers: { 'x-request-id': 'log-2' } });
    await app.close();
    const requestLines = lines.filter((l) => l.requestId !== undefined);
    expect(requestLines.map((l) => [l.requestId, l.level, l.msg])).toEqual([
      ['log-1', 30, 'request completed'],
      ['log-2', 50, 'request errored'],
    ]);
    // the unexpected error is in that one line, with its stack
    expect(requestLines[1]?.err).toMatchObject({
      message: 'boom',
      stack: expect.stringContaining('Error: boom'),
    });
    expect(lines.some((l) => l.msg === 'incoming request')).toBe(false);
  });

  it('at warn, a quiet request writes nothing (and builds no per-request logger)', async () => {
    const { lines, logger } = capture('warn');
    const app = createApp(testDeps({ logger }));
    await app.inject('/health');
    await app.inject('/nope');
    await app.close();
    expect(lines.filter((l) => l.requestId !== undefined)).toEqual([]);
  });

  it('writes, without a pino child, the very text a child writes; errors, own levels and child() get a real child', () => {
    const raw = (level = 'info') => {
      const text: string[] = [];
      const stream = new Writable({
        write(chunk, _encoding, done) {
          text.push(String(chunk));
          done();
        },
      });
      const logger = pino(
        { level, base: { service: 'modern' }, timestamp: false, redact: ['req.headers.authorization'] },
        stream,
      );
      return { text, logger };
    };
    const bindings = { requestId: 'same-1' };
    const fields = {
      req: { method: 'GET', headers: { authorization: 'secret' } },
      res: { statusCode: 200 },
      n: 1,
    };
    const viaChild = raw();
    viaChild.logger.child(bindings).info({ ...fields }, 'request completed');
    viaChild.logger.child(bindings).warn('plain %s', 'message');
    const lazy = raw();
    const log = lazyChildLogger(lazy.logger, bindings, {}) as unknown as typeof lazy.logger;
    log.info({ ...fields }, 'request completed');
    log.warn('plain %s', 'message');
    expect(lazy.text).toEqual(viaChild.text);
    expect(lazy.text[0]).toContain('"requestId":"same-1"');
    expect(lazy.text[0]).not.toContain('secret');

    // an Error first: pino's error handling, through a real child
    const error = raw();
    const errorLog = lazyChildLogger(error.logger, bindings, {}) as unknown as typeof error.logger;
    errorLog.error(new Error('kaput'));
    expect(JSON.parse(error.text[0]!)).toMatchObject({ requestId: 'same-1', err: { message: 'kaput' } });

    // a route's own level is honoured (a child at debug under an info parent)
    const own = raw('info');
    const debugLog = lazyChildLogger(own.logger, bindings, {
      level: 'debug',
    }) as unknown as typeof own.logger;
    debugLog.debug({ n: 2 }, 'detail');
    expect(own.text.map((line) => JSON.parse(line).msg)).toEqual(['detail']);
    expect(debugLog.child({ more: 1 }).bindings()).toMatchObject({ requestId: 'same-1', more: 1 });
  });

  it("each request's logger is a lazy one, made by Fastify's own factory; the server's logger is a real one", async () => {
    const { lines, logger } = capture('info');
    const app = createApp(testDeps({ logger }));
    let lazy: boolean | undefined;
    app.get('/probe', async (request) => {
      lazy = plainParent(request.log) !== undefined;
      request.log.info({ n: 1 }, 'inside');
      return {};
    });
    app.log.info('server line');
    await app.inject({ url: '/probe', headers: { 'x-request-id': 'lazy-1' } });
    await app.close();
    expect(lazy).toBe(true);
    expect(plainParent(app.log)).toBeUndefined();
    expect(lines.find((l) => l.msg === 'inside')).toMatchObject({
      requestId: 'lazy-1',
      n: 1,
      service: 'modern',
    });
    expect(lines.find((l) => l.msg === 'server line')).toMatchObject({ service: 'modern' });
    expect(lines.find((l) => l.msg === 'server line')).not.toHaveProperty('requestId');
  });

  it("with the service's own logger, the request line is written in one go with every field", async () => {
    const text: string[] = [];
    const logger = createLogger({ service: 'modern', level: 'info' }).child({});
    (logger as unknown as Record<symbol, unknown>)[pino.symbols.streamSym] = {
      write: (s: string) => text.push(s),
    };
    const app = createApp(testDeps({ logger }));
    await app.inject({ url: '/health?x="1"', headers: { 'x-request-id': 'fast-1', 'accept-version': '3' } });
    await app.close();
    const line = text.map((t) => JSON.parse(t)).find((l) => l.requestId === 'fast-1');
    expect(line).toEqual({
      level: 30,
      time: expect.any(String),
      service: 'modern',
      name: 'modern',
      requestId: 'fast-1',
      req: {
        method: 'GET',
        url: '/health?x=%221%22',
        version: '3',
        host: 'localhost:80',
        remoteAddress: '127.0.0.1',
      },
      res: { statusCode: 200 },
      responseTime: expect.any(Number),
      msg: 'request completed',
    });
  });
});
