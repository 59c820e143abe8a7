import fc from 'fast-check';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createLogger, type RequestLine, writeRequestLine } from '../src/index.ts';

/** A child of `logger` whose lines land in `lines` (pino writes to the logger's stream symbol). */
function capturing(logger: pino.Logger, options: pino.ChildLoggerOptions = {}) {
  const lines: string[] = [];
  const child = logger.child({}, options);
  (child as unknown as Record<symbol, unknown>)[pino.symbols.streamSym] = {
    write: (s: string) => lines.push(s),
  };
  return { child, lines };
}

// what Fastify's own serializers make of a request and its reply (fastify/lib/logger-pino.js)
const fastifySerializers = {
  req: (r: RequestLine['req']) => ({ ...r }),
  res: (r: { statusCode: number }) => ({ statusCode: r.statusCode }),
};
const withoutTime = (line: string) => line.replace(/,"time":"[^"]+"/, ',"time":"T"');

/** `lines` written by writeRequestLine and by pino through a child, side by side. */
function bothWays(logger: pino.Logger, lines: readonly RequestLine[]) {
  const viaPino = capturing(logger, { serializers: fastifySerializers });
  const direct = capturing(logger, { serializers: fastifySerializers });
  for (const line of lines) {
    viaPino.child
      .child({ requestId: line.requestId })
      .info(
        { req: line.req, res: { statusCode: line.statusCode }, responseTime: line.responseTime },
        'request completed',
      );
    expect(writeRequestLine(direct.child, line)).toBe(true);
  }
  return { direct: direct.lines, viaPino: viaPino.lines };
}

describe('writeRequestLine', () => {
  const cases: RequestLine[] = [
    {
      requestId: '6dbae63f-563e-4158-ba06-17ae9cb8b019',
      req: {
        method: 'GET',
        url: '/articles/x',
        host: '127.0.0.1:3002',
        remoteAddress: '127.0.0.1',
        remotePort: 54786,
      },
      statusCode: 200,
      responseTime: 0.45224099999995815,
    },
    {
      requestId: 'client.id:1',
      req: {
        method: 'POST',
        url: '/a"b\\c/ü/\u2028?q=<x>&y=%00',
        version: '2',
        host: 'example.org',
        remoteAddress: '::ffff:10.0.0.1',
        remotePort: undefined,
      },
      statusCode: 422,
      responseTime: 12,
    },
    {
      requestId: 'r',
      req: { method: 'HEAD', url: '/', host: '', remoteAddress: undefined, remotePort: undefined },
      statusCode: 404,
      responseTime: 1e-7,
    },
  ];

  it('writes the text pino writes for the same line through a child, field for field', () => {
    const logger = createLogger({ service: 'modern', level: 'info' });
    const { direct, viaPino } = bothWays(logger, cases);
    expect(direct.map(withoutTime)).toEqual(viaPino.map(withoutTime));
    expect(direct[0]).toMatch(
      /^\{"level":30,"time":"\d{4}-\d\d-\d\dT[\d:.]+Z","service":"modern","name":"modern","requestId":/,
    );
    for (const text of direct) expect(JSON.parse(text)).toMatchObject({ msg: 'request completed' });
  });

  it('writes the text pino writes for generated lines (any Unicode, quotes, controls, lone surrogates, odd numbers)', () => {
    const logger = createLogger({ service: 'modern', level: 'info' });
    const text = fc.oneof(
      fc.string({ unit: 'grapheme-ascii' }),
      fc.string({ unit: 'binary' }),
      fc.constantFrom('"', '\\', '\u2028', '\ud800', '\udc00x', '/a?b=%22'),
    );
    const number = fc.oneof(
      fc.double(),
      fc.integer(),
      fc.constantFrom(-0, Number.NaN, Number.POSITIVE_INFINITY),
    );
    const line = fc.record({
      requestId: text,
      req: fc.record({
        method: text,
        url: text,
        version: fc.option(text, { nil: undefined }),
        host: text,
        remoteAddress: fc.option(text, { nil: undefined }),
        remotePort: fc.option(fc.integer({ min: 0, max: 65535 }), { nil: undefined }),
      }),
      statusCode: fc.oneof(fc.integer({ min: 100, max: 599 }), number),
      responseTime: number,
    });
    fc.assert(
      fc.property(line, (l: RequestLine) => {
        const { direct, viaPino } = bothWays(logger, [l]);
        expect(direct.map(withoutTime)).toEqual(viaPino.map(withoutTime));
      }),
      { numRuns: 500 },
    );
  });

  it('declines (the caller logs the usual way) below info, for loggers of other making and for prefixed children', () => {
    const line = cases[0]!;
    expect(writeRequestLine(createLogger({ service: 'modern', level: 'warn' }), line)).toBe(false);
    expect(writeRequestLine(pino({ level: 'info' }, { write() {} }), line)).toBe(false);
    const prefixed = capturing(createLogger({ service: 'modern', level: 'info' }), { msgPrefix: '[x] ' });
    expect(writeRequestLine(prefixed.child, line)).toBe(false);
    expect(prefixed.lines).toEqual([]);
  });

  it('keeps redacting credentials on the usual path', () => {
    const { child, lines } = capturing(createLogger({ service: 'modern', level: 'info' }));
    child.info({ req: { headers: { authorization: 'Bearer secret' } }, token: 't' }, 'x');
    expect(lines[0]).not.toContain('secret');
    expect(JSON.parse(lines[0]!)).toMatchObject({
      req: { headers: { authorization: '[redacted]' } },
      token: '[redacted]',
    });
  });
});
