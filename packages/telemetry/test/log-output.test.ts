import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { isoTimeAt, LOG_FLUSH_INTERVAL_MS, lineOutput } from '../src/log-output.ts';

const dir = mkdtempSync(join(tmpdir(), 'line-output-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

/** A LineOutput onto a fresh file, and what the file holds so far. */
function onFile(sync = true) {
  const path = join(dir, `out-${files++}.log`);
  const fd = openSync(path, 'w');
  return {
    output: lineOutput({ fd, sync }),
    read: () => readFileSync(path, 'utf8'),
    close: () => closeSync(fd),
  };
}

describe('lineOutput', () => {
  it('writes every line, in order and byte for byte, whatever the lines hold (generated, any Unicode)', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'grapheme', maxLength: 300 }), { maxLength: 80 }), (texts) => {
        const { output, read, close } = onFile();
        const lines = texts.map((t) => `${JSON.stringify({ t })}\n`);
        for (const line of lines) output.write(line);
        output.flushSync();
        const written = read();
        close();
        expect(written).toBe(lines.join(''));
      }),
      { numRuns: 60 },
    );
  });

  it('keeps order and bytes when lines of any length mix, up to longer than the chunk buffer (generated)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom('a', 'é', '€', '𝄞'), fc.oneof(fc.nat(200), fc.nat(40_000))), {
          maxLength: 30,
        }),
        (specs) => {
          const { output, read, close } = onFile();
          const lines = specs.map(([char, n]) => `${char.repeat(n)}\n`);
          for (const line of lines) output.write(line);
          output.flushSync();
          const written = read();
          close();
          expect(written).toBe(lines.join(''));
        },
      ),
      { numRuns: 40 },
    );
  });

  it('gathers lines into chunks: nothing is written below ~4 KiB, whole lines once past it', () => {
    const { output, read, close } = onFile();
    const line = `${JSON.stringify({ msg: 'x'.repeat(90) })}\n`; // 101 characters
    for (let i = 0; i < 40; i++) output.write(line); // 4,040 characters
    expect(read()).toBe('');
    output.write(line); // 4,141: a chunk
    expect(read()).toBe(line.repeat(41));
    output.write(line);
    expect(read()).toBe(line.repeat(41));
    output.flushSync();
    expect(read()).toBe(line.repeat(42));
    close();
  });

  it('a quiet process: what is gathered comes out within the flush interval, without a flush call', async () => {
    const { output, read, close } = onFile();
    output.write('{"msg":"one"}\n');
    expect(read()).toBe('');
    const deadline = Date.now() + 20 * LOG_FLUSH_INTERVAL_MS;
    while (read() === '' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(read()).toBe('{"msg":"one"}\n');
    close();
  });

  it('asynchronous: flush(done) calls back once every line is written, in order, byte for byte (generated)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.string({ unit: 'grapheme', maxLength: 400 }), { minLength: 1, maxLength: 120 }),
        async (texts) => {
          const { output, read, close } = onFile(false);
          const lines = texts.map((t) => `${JSON.stringify({ t })}\n`);
          for (const line of lines) output.write(line);
          await new Promise<void>((resolve, reject) =>
            output.flush((err) => (err ? reject(err) : resolve())),
          );
          expect(read()).toBe(lines.join(''));
          expect(output.dropped).toBe(0);
          close();
        },
      ),
      { numRuns: 40 },
    );
  });

  it('asynchronous, writes outpacing the output: past maxBufferedBytes whole chunks are dropped and counted, memory stays bounded', async () => {
    const path = join(dir, `out-${files++}.log`);
    const fd = openSync(path, 'w');
    const output = lineOutput({ fd, sync: false, maxBufferedBytes: 256 * 1024 });
    const line = `${JSON.stringify({ msg: 'x'.repeat(190) })}\n`; // 201 characters
    // one synchronous burst: the first chunk's write is under way, the rest wait (or not)
    for (let i = 0; i < 20_000; i++) output.write(line);
    expect(output.dropped).toBeGreaterThan(0);
    await new Promise<void>((resolve, reject) => output.flush((err) => (err ? reject(err) : resolve())));
    const written = readFileSync(path, 'utf8')
      .split('\n')
      .filter((l) => l.length > 0);
    closeSync(fd);
    // what was kept is whole lines, and no more than fits: the first chunk and 256 KiB
    for (const l of written) expect(l).toBe(line.slice(0, -1));
    expect(written.length).toBeLessThan(20_000);
    expect(written.length * line.length).toBeLessThanOrEqual(256 * 1024 + 8 * 1024);
  });

  it('flush(done) calls back once the gathered lines are written', async () => {
    const { output, read, close } = onFile();
    output.write('{"msg":"a"}\n');
    await new Promise<void>((resolve, reject) => output.flush((err) => (err ? reject(err) : resolve())));
    expect(read()).toBe('{"msg":"a"}\n');
    close();
  });

  it.each([true, false])(
    'a descriptor that fails (sync %s): nothing throws or ends the process, the lines are counted as dropped, flush calls back',
    async (sync) => {
      const path = join(dir, `out-${files++}.log`);
      closeSync(openSync(path, 'w'));
      const fd = openSync(path, 'r'); // writing to it fails (EBADF)
      const warnings: string[] = [];
      const onWarning = (w: Error) => warnings.push(w.message);
      process.on('warning', onWarning);
      try {
        const output = lineOutput({ fd, sync });
        for (let i = 0; i < 200; i++) output.write(`${JSON.stringify({ i, pad: 'x'.repeat(60) })}\n`);
        // asynchronously the failed write is flush's error; either way it calls back
        await new Promise<void>((resolve) => output.flush(() => resolve()));
        output.write('{"msg":"after"}\n');
        output.flushSync();
        expect(output.dropped).toBeGreaterThan(0);
        expect(output.written).toBe(0);
        await new Promise((r) => setImmediate(r));
        expect(warnings.some((m) => m.startsWith('log output failed'))).toBe(true);
      } finally {
        process.off('warning', onWarning);
        closeSync(fd);
      }
    },
  );
});

describe('isoTimeAt', () => {
  it("writes toISOString's text for any time, also for runs of times within one second (its cache)", () => {
    const instant = fc.double({ min: -8.64e15, max: 8.64e15, noNaN: true }).map(Math.trunc);
    const run = fc.tuple(instant, fc.array(fc.integer({ min: -1500, max: 1500 }), { maxLength: 8 }));
    fc.assert(
      fc.property(run, ([start, steps]) => {
        for (const ms of [start, ...steps.map((d) => Math.max(-8.64e15, Math.min(8.64e15, start + d)))])
          expect(isoTimeAt(ms)).toBe(`,"time":"${new Date(ms).toISOString()}"`);
      }),
      { numRuns: 2000 },
    );
  });
});
