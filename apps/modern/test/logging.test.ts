import { Writable } from 'node:stream';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createApp } from '../src/index.ts';
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
});
