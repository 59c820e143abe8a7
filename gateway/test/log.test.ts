import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { isoTime } from '@pilot/telemetry';
import { createLogger } from '../src/log.ts';
import { AccessLog } from '../src/pipeline/access-log.ts';
import type { RequestContext } from '../src/pipeline/context.ts';

/**
 * The gateway's logs are buffered (log.ts): these child processes prove nothing is lost when
 * the process ends — normally, by process.exit after a fatal error, or by an uncaught
 * exception — and that a quiet process's lines still come out without an exit.
 */
const LOG = fileURLToPath(new URL('../src/log.ts', import.meta.url));

function run(
  body: string,
  waitFor?: string,
  /** A slow reader: stop reading this long after each chunk read. */
  pauseMs = 0,
): Promise<{ code: number | null; lines: string[] }> {
  const script = `import { createLogger, flushLogs } from ${JSON.stringify(LOG)};\nconst logger = createLogger('info');\n${body}`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no end in 20 s; stdout so far:\n${out}`));
    }, 20_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (waitFor && out.includes(waitFor)) child.kill('SIGKILL');
      if (pauseMs > 0) {
        child.stdout.pause();
        setTimeout(() => child.stdout.resume(), pauseMs);
      }
    });
    // 'close', not 'exit': 'exit' may come before the last of stdout has been read
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, lines: out.split('\n').filter((l) => l.length > 0) });
    });
  });
}

const numbered = (lines: string[]) =>
  lines.map((l) => JSON.parse(l) as { msg: string; n?: number }).filter((l) => l.n !== undefined);

describe('buffered logs', () => {
  it('every line is written when the process exits (less than a buffer of them)', async () => {
    const { code, lines } = await run(
      `for (let n = 0; n < 7; n++) logger.info({ n }, 'line');\nprocess.exit(0);`,
    );
    expect(code).toBe(0);
    expect(numbered(lines).map((l) => l.n)).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it('a fatal start-up error (as server.ts exits): every line before it, in order, then the fatal line', async () => {
    const { code, lines } = await run(
      `for (let n = 0; n < 3000; n++) logger.info({ n, pad: 'x'.repeat(40) }, 'line');\nlogger.fatal('cannot start');\nawait flushLogs(logger);\nprocess.exit(1);`,
    );
    expect(code).toBe(1);
    expect(numbered(lines).map((l) => l.n)).toEqual(Array.from({ length: 3000 }, (_, i) => i));
    expect(lines.at(-1)).toContain('"msg":"cannot start"');
  });

  it('flushLogs waits for a slow reader that keeps reading, however long the whole takes', async () => {
    // ~600 KB through a 64 KiB pipe read every 250 ms: several seconds in all, never 1.5 s
    // without a byte taken; a line written after the flush must come after every logged one
    const { code, lines } = await run(
      `for (let n = 0; n < 6000; n++) logger.info({ n, pad: 'x'.repeat(40) }, 'line');\nawait flushLogs(logger, 1500);\n(await import('node:fs')).writeSync(1, '{"msg":"after the flush"}\\n');\nprocess.exit(0);`,
      undefined,
      250,
    );
    expect(code).toBe(0);
    expect(numbered(lines).map((l) => l.n)).toEqual(Array.from({ length: 6000 }, (_, i) => i));
    expect(lines.at(-1)).toBe('{"msg":"after the flush"}');
  });

  it('an uncaught exception: every line before it is written (the order may not hold there)', async () => {
    const { code, lines } = await run(
      `for (let n = 0; n < 500; n++) logger.info({ n }, 'line');\nsetImmediate(() => { throw new Error('boom'); });`,
    );
    expect(code).not.toBe(0);
    // pino's exit hook writes synchronously while a chunk may still be on its way: all there,
    // maybe not in order
    const seen = numbered(lines).map((l) => l.n!);
    expect(seen).toHaveLength(500);
    expect(new Set(seen).size).toBe(500);
  });

  it('a quiet process: a single line comes out without an exit (periodic flush)', async () => {
    // the child stays alive; it is killed once the line arrived (or the test times out)
    const { lines } = await run(`logger.info('alone');\nsetInterval(() => {}, 1000);`, '"msg":"alone"');
    expect(lines.some((l) => l.includes('"msg":"alone"'))).toBe(true);
  });
});

describe('the access line, built as one string', () => {
  /** A logger of createLogger's making whose lines land in `lines`. */
  const capture = (level = 'info') => {
    const lines: string[] = [];
    const logger = createLogger(level, { destination: { write: (line: string) => void lines.push(line) } });
    return { logger, lines };
  };
  /** The time field moves between two lines; everything else must be the same bytes. */
  const untimed = (line: string) => line.replace(/,"time":"[^"]*"/, ',"time":"T"');
  const text = fc.oneof(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'binary-ascii' }));

  it('is byte for byte what pino writes for the same fields (generated requests)', () => {
    fc.assert(
      fc.property(
        fc.record({
          requestId: text,
          method: text,
          path: fc.option(text, { nil: undefined }),
          route: text,
          backend: text,
          status: fc.integer({ min: 100, max: 599 }),
          ms: fc.oneof(fc.double(), fc.constant(Number.NaN), fc.double({ min: 0, max: 60_000 })),
          fallback: fc.option(fc.record({ from: text, reason: fc.option(text, { nil: null }) }), {
            nil: null,
          }),
          shadow: fc.option(text, { nil: null }),
          error: fc.option(text, { nil: null }),
          child: fc.option(fc.dictionary(fc.string({ minLength: 1 }), text), { nil: null }),
        }),
        (g) => {
          const ctx = {
            requestId: g.requestId,
            method: g.method,
            route: { id: g.route, shadow: g.shadow === null ? undefined : { backend: g.shadow } },
            backend: { name: g.backend },
            fallbackFrom: g.fallback?.from ?? null,
            fallbackReason: g.fallback ? g.fallback.reason : null,
            shadow: g.shadow === null ? null : {},
            errorKind: g.error,
          } as unknown as RequestContext;
          const ours = capture();
          const logger = g.child ? ours.logger.child({ ...g.child }) : ours.logger;
          new AccessLog(logger).served(ctx, g.path, g.status, g.ms);
          // pino's own path: a logger that is not one of createLogger's (same options, same stream)
          const theirs: string[] = [];
          const plain = pino(
            { level: 'info', base: { service: 'gateway' }, timestamp: isoTime },
            { write: (line: string) => void theirs.push(line) },
          );
          new AccessLog(g.child ? plain.child({ ...g.child }) : plain).served(ctx, g.path, g.status, g.ms);
          expect(ours.lines.map(untimed)).toEqual(theirs.map(untimed));
          expect(ours.lines).toHaveLength(1);
          JSON.parse(ours.lines[0]!);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('writes nothing when info is off', () => {
    const { logger, lines } = capture('warn');
    const ctx = {
      requestId: 'r',
      method: 'GET',
      route: { id: 'a' },
      backend: { name: 'b' },
    } as RequestContext;
    new AccessLog(logger).served({ ...ctx, fallbackFrom: null, shadow: null, errorKind: null }, '/x', 200, 1);
    expect(lines).toEqual([]);
    logger.level = 'info';
    new AccessLog(logger).served({ ...ctx, fallbackFrom: null, shadow: null, errorKind: null }, '/x', 200, 1);
    expect(lines).toHaveLength(1);
  });
});
