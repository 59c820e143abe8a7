import pino, { type DestinationStream, type Logger } from 'pino';

/** How long a buffered log line may wait for the next write (ms). */
export const LOG_FLUSH_INTERVAL_MS = 100;

let stdout: DestinationStream | undefined;

/**
 * Standard output, written asynchronously (sonic-boom) in chunks of up to 4 KiB and at least
 * every LOG_FLUSH_INTERVAL_MS: a write per access line was a system call (and a trip through
 * libuv's thread pool) on every request. pino flushes what is buffered, synchronously, when the
 * process exits — a graceful shutdown, a fatal start-up error, an uncaught exception; only a
 * process killed outright (SIGKILL) loses up to 100 ms of lines. One destination per process,
 * shared by every logger, so two buffers' chunks never interleave.
 *
 * Lines go in as bytes (sonic-boom's buffer mode): in its string mode every write measures the
 * UTF-8 length of the whole pending chunk again, which made buffering cost more than it saved.
 */
function stdoutDestination(): DestinationStream {
  if (!stdout) {
    const boom = pino.destination({
      dest: 1,
      sync: false,
      minLength: 4096,
      periodicFlush: LOG_FLUSH_INTERVAL_MS,
      contentMode: 'buffer',
    } as Parameters<typeof pino.destination>[0]);
    stdout = {
      write: (line: string) => boom.write(Buffer.from(line) as unknown as string),
      flush: (cb?: (err?: Error) => void) => boom.flush(cb),
      flushSync: () => boom.flushSync(),
    } as DestinationStream;
  }
  return stdout;
}

let lastMs = -1;
let lastTime = '';

/**
 * pino's `isoTime`, formatted once per millisecond instead of once per line (a busy gateway
 * writes several lines in the same millisecond): the same `"time"` text.
 */
export function isoTime(): string {
  const now = Date.now();
  if (now !== lastMs) {
    lastMs = now;
    lastTime = `,"time":"${new Date(now).toISOString()}"`;
  }
  return lastTime;
}

/**
 * Structured JSON logs (pino) on standard output. The access log is one `request` line per
 * request (pipeline/access-log.ts). `sync: true` writes every line before returning (scripts).
 */
export function createLogger(
  level = 'info',
  options: { sync?: boolean; destination?: DestinationStream } = {},
): Logger {
  const logger = pino(
    { level, base: { service: 'gateway' }, timestamp: isoTime },
    options.destination ?? (options.sync ? pino.destination({ dest: 1, sync: true }) : stdoutDestination()),
  );
  made.add(logger);
  return logger;
}

/** The loggers createLogger made: their lines are pino's plain ones (see lineWriter). */
const made = new WeakSet<Logger>();

/**
 * For a logger of createLogger's making (or a child of one), what pino puts in front of a line's
 * own fields at info, `{"level":30,"time":"…","service":"gateway"` and the child's bindings, and
 * its stream: `write(head() + fields + ',"msg":"…"}\n')` is the line `logger.info(fields, msg)`
 * writes (tested byte for byte), without pino's walk over a fields object. Null for any other
 * logger (its options may change the line). The caller checks the level.
 */
export function lineWriter(logger: Logger): { head(): string; write(line: string): void } | null {
  let ours = false;
  for (let l: object | null = logger; l !== null && !ours; l = Object.getPrototypeOf(l))
    ours = made.has(l as Logger);
  if (!ours) return null;
  const internals = logger as unknown as Record<symbol, unknown>;
  const chindings = internals[pino.symbols.chindingsSym] as string;
  const stream = internals[pino.symbols.streamSym] as DestinationStream;
  return { head: () => `{"level":30${isoTime()}${chindings}`, write: (line) => stream.write(line) };
}

/**
 * Resolves once every buffered line is written (or after `timeoutMs`, so that a stuck standard
 * output cannot hold a shutdown forever). Await it before process.exit: the exit-time flush
 * pino registers writes synchronously while an asynchronous write may still be under way, so
 * lines can come out of order there (none are lost).
 */
export function flushLogs(logger: Logger, timeoutMs = 2000): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    timer.unref();
    logger.flush(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
