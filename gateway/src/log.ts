import { isoTime, stdoutLines } from '@pilot/telemetry';
import pino, { type DestinationStream, type Logger } from 'pino';

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
    options.destination ??
      (options.sync
        ? pino.destination({ dest: 1, sync: true })
        : // asynchronous and bounded: a stalled log reader must not stop the gateway serving
          stdoutLines({ sync: false })),
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
 * Resolves once every gathered line is written, or once standard output has taken nothing for
 * `stallMs` (default 5 s: a stuck reader cannot hold a shutdown forever). A slow reader that
 * still takes bytes is waited for: exiting while a chunk is on its way in libuv's pool lets the
 * exit hook's synchronous writes overtake it (CI saw the first chunk arrive last after a fixed
 * 2 s limit on a loaded machine). Await it before process.exit.
 */
export function flushLogs(logger: Logger, stallMs = 5000): Promise<void> {
  const stream = (logger as unknown as Record<symbol, unknown>)[pino.symbols.streamSym] as {
    written?: number;
  };
  const progress = () => stream.written ?? 0;
  return new Promise((resolve) => {
    let seen = progress();
    const timer = setInterval(() => {
      const now = progress();
      if (now === seen) finish();
      seen = now;
    }, stallMs);
    timer.unref();
    const finish = () => {
      clearInterval(timer);
      resolve();
    };
    logger.flush(finish);
  });
}
