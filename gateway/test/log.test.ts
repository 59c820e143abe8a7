import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The gateway's logs are buffered (log.ts): these child processes prove nothing is lost when
 * the process ends — normally, by process.exit after a fatal error, or by an uncaught
 * exception — and that a quiet process's lines still come out without an exit.
 */
const LOG = fileURLToPath(new URL('../src/log.ts', import.meta.url));

function run(body: string, waitFor?: string): Promise<{ code: number | null; lines: string[] }> {
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
    });
    child.once('exit', (code) => {
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
