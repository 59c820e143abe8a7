import { writeSync } from 'node:fs';
import type { DestinationStream } from 'pino';
import sonicBoom from 'sonic-boom';

// a CommonJS module: its class is module.exports itself, also under .SonicBoom (what the types see)
const { SonicBoom } = sonicBoom;

/** How long a buffered log line may wait for the next write (ms). */
export const LOG_FLUSH_INTERVAL_MS = 100;

/** Characters gathered before a chunk is written (about 4 KiB of ASCII JSON lines). */
const CHUNK_CHARS = 4096;

export interface LineOutput extends DestinationStream {
  /** Writes what is gathered; `done` once it is out. */
  flush(done?: (err?: Error) => void): void;
  flushSync(): void;
  /** Chunks dropped because more than `maxBufferedBytes` waited (asynchronous output only). */
  readonly dropped: number;
  /** Bytes written so far: a flush that waits can tell a slow reader from a stalled one. */
  readonly written: number;
}

export interface LineOutputOptions {
  /** Default 1 (standard output). */
  fd?: number;
  /**
   * Default true: a chunk is written before `write` returns (pino's own default), so a stalled
   * reader stalls the process. false: chunks go through libuv's pool, and at most
   * `maxBufferedBytes` wait; past that, chunks are dropped (counted in `dropped`) rather than
   * grow memory without end or block the event loop (the gateway: serving must not stop
   * because its log reader did).
   */
  sync?: boolean;
  /** Default 64 MiB. */
  maxBufferedBytes?: number;
}

/**
 * Log lines gathered in a list and written as one chunk of ~4 KiB, at least every
 * LOG_FLUSH_INTERVAL_MS (sonic-boom does the writing: partial writes, a full pipe's EAGAIN).
 * What is gathered is written when the process exits, also after an uncaught exception; only a
 * process killed outright (SIGKILL, power loss) loses up to 100 ms of lines. A reader that stops
 * reading holds an exit (a write blocked in libuv's pool is joined at exit) until the
 * supervisor's kill; serving goes on meanwhile (asynchronous output).
 *
 * Why not sonic-boom's own `minLength` buffering: in its string mode every write measures the
 * UTF-8 length of the whole pending chunk again (`Buffer.byteLength` of a growing concatenated
 * string, flattened each time) and re-encodes the chunk once written; in its buffer mode each
 * line is encoded on its own. Under callgrind that was ~10 k instructions of a cached read in
 * modern (7 %). Here a line costs a push; a chunk is joined and encoded once (encoding each
 * line into one buffer as it comes, `buf.write`, counted ~3.7 k per line against ~3.5 k for its
 * share of the join and the encode: tried 2026-12-03, not kept). (pino's
 * asynchronous destination writing line by line measured ~3x the CPU per line of a
 * synchronous one; in chunks, one trip through libuv's pool per ~20 lines.)
 */
export function lineOutput(options: LineOutputOptions = {}): LineOutput {
  const sync = options.sync ?? true;
  // sonic-boom itself, not pino.destination: pino's would rethrow a write error other than EPIPE
  // as an 'error' event nobody listens to (the process ends), and registers a second exit hook
  const sink = new SonicBoom({
    dest: options.fd ?? 1,
    sync,
    contentMode: 'buffer',
    // asynchronous: minLength 1 so that flush(done) waits for the write under way
    ...(sync ? {} : { minLength: 1, maxLength: options.maxBufferedBytes ?? 64 * 1024 * 1024 }),
  } as ConstructorParameters<typeof SonicBoom>[0]);
  let dropped = 0;
  let gone = false;
  sink.on('error', (err: NodeJS.ErrnoException) => {
    // the reader closed its end (EPIPE) or the descriptor broke: there is nowhere left to write
    // to, and a logging failure must not end the process
    gone = true;
    dropped++;
    if (err.code !== 'EPIPE') process.emitWarning(`log output failed: ${err.message}`);
  });
  sink.on('drop', () => {
    dropped++;
  });
  let written = 0;
  sink.on('write', (n: number) => {
    written += n;
  });
  let lines: string[] = [];
  let chars = 0;
  const take = (): string => {
    const chunk = lines.length === 1 ? lines[0]! : lines.join('');
    lines = [];
    chars = 0;
    return chunk;
  };
  const writeGathered = () => {
    if (lines.length === 0) return;
    if (gone) {
      dropped++;
      take();
      return;
    }
    sink.write(Buffer.from(take()) as unknown as string);
  };
  const timer = setInterval(writeGathered, LOG_FLUSH_INTERVAL_MS);
  timer.unref();
  return {
    write(line: string) {
      lines.push(line);
      chars += line.length;
      if (chars >= CHUNK_CHARS) writeGathered();
      return true;
    },
    flush(done) {
      try {
        writeGathered();
      } catch (err) {
        done?.(err as Error);
        return;
      }
      if (sync || gone) done?.();
      else sink.flush(done);
    },
    flushSync() {
      if (gone) {
        if (lines.length > 0) dropped++;
        lines = [];
        chars = 0;
        return;
      }
      const chunk = lines.length > 0 ? Buffer.from(take()) : undefined;
      try {
        sink.flushSync();
      } finally {
        // written here, not handed to the sink: asynchronously it would start a write that an
        // exiting process never finishes
        if (chunk) writeFully(options.fd ?? 1, chunk);
      }
    },
    get dropped() {
      return dropped;
    },
    get written() {
      return written;
    },
  };
}

/** Every byte of `chunk`, synchronously (a full pipe is retried for up to a second). */
function writeFully(fd: number, chunk: Buffer): void {
  let offset = 0;
  let waited = 0;
  while (offset < chunk.length) {
    try {
      offset += writeSync(fd, chunk, offset);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN' || waited >= 1000) throw err;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
      waited += 10;
    }
  }
}

let stdout: LineOutput | undefined;

/**
 * The process's standard output as a LineOutput: one per process, shared by every logger, so
 * two buffers' chunks never interleave (the first call's `sync` holds). Flushed at exit.
 */
export function stdoutLines(options: { sync?: boolean } = {}): LineOutput {
  if (!stdout) {
    const output = lineOutput({ fd: 1, sync: options.sync });
    process.once('exit', () => {
      try {
        output.flushSync();
      } catch {
        // standard output is gone: nothing left to write to
      }
    });
    stdout = output;
  }
  return stdout;
}

/** Chunks the process's standard output has dropped so far (0 before it is used). */
export function stdoutDroppedChunks(): number {
  return stdout?.dropped ?? 0;
}

let lastMs = -1;
let lastTime = '';
let lastSecond = Number.NaN;
let secondPrefix = '';

/**
 * pino's `isoTime`, formatted once per millisecond instead of once per line (a busy server
 * writes several lines in the same millisecond): the same `"time"` text.
 */
export function isoTime(): string {
  const now = Date.now();
  if (now !== lastMs) {
    lastMs = now;
    lastTime = isoTimeAt(now);
  }
  return lastTime;
}

/**
 * `,"time":"<ISO 8601>"` for `ms`. `toISOString` costs ~7 k instructions (the runtime formats
 * the whole date with printf), so it runs once per second and the milliseconds are appended.
 */
export function isoTimeAt(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second !== lastSecond) {
    lastSecond = second;
    // "YYYY-MM-DDTHH:mm:ss." of an ISO string that ends "sssZ"; years past 9999 have no fixed width
    const iso = new Date(second * 1000).toISOString();
    secondPrefix = `,"time":"${iso.slice(0, -4)}`;
  }
  const milli = ms - second * 1000;
  return `${secondPrefix}${milli < 10 ? '00' : milli < 100 ? '0' : ''}${milli}Z"`;
}
