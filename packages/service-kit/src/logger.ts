import { type DestinationStream, pino, type Logger } from 'pino';

export type { Logger };

/** Paths never written to logs: credentials and tokens in requests and our own objects. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-webhook-secret"]',
  'res.headers["set-cookie"]',
  'token',
  'password',
  'refreshToken',
  'accessToken',
];

/** How long a buffered log line may wait for the next write (ms). */
export const LOG_FLUSH_INTERVAL_MS = 100;

let stdout: (DestinationStream & { flushSync(): void }) | undefined;

/**
 * Standard output, buffered: lines are written synchronously in chunks of up to 4 KiB, at least
 * every LOG_FLUSH_INTERVAL_MS, and what is left when the process exits (also after an uncaught
 * exception); only a process killed outright (SIGKILL, power loss) loses up to 100 ms of lines.
 * A write per line was a system call on every request. Synchronous on purpose: pino's
 * asynchronous destination (`sync: false`) measured ~3x the CPU per line of this one, and 2x that
 * of plain synchronous writes, in this process and its libuv threads together. One destination
 * per process, shared by every logger, so chunks from two buffers never interleave.
 */
function stdoutDestination(): DestinationStream {
  if (!stdout) {
    const destination = pino.destination({
      dest: 1,
      sync: true,
      minLength: 4096,
      periodicFlush: LOG_FLUSH_INTERVAL_MS,
    }) as DestinationStream & { flushSync(): void };
    process.once('exit', () => {
      try {
        destination.flushSync();
      } catch {
        // standard output is gone: nothing left to write to
      }
    });
    stdout = destination;
  }
  return stdout;
}

let lastMs = -1;
let lastTime = '';

/**
 * pino's `isoTime`, formatted once per millisecond instead of once per line (a busy server
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

const made = new WeakSet<object>();

export function createLogger(options: { service: string; level: string }): Logger {
  const logger = pino(
    {
      name: options.service,
      level: options.level,
      base: { service: options.service },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: isoTime,
    },
    stdoutDestination(),
  );
  made.add(logger);
  return logger;
}

/** What Fastify's request serializers write for a request and its reply. */
export interface RequestLine {
  requestId: string;
  req: {
    method: string;
    url: string;
    version?: string | undefined;
    host: string;
    remoteAddress?: string | undefined;
    remotePort?: number | undefined;
  };
  statusCode: number;
  /** ms */
  responseTime: number;
}

const { chindingsSym, streamSym, mixinSym, nestedKeySym, messageKeySym } = pino.symbols;
// in pino.symbols at run time, missing from its type declarations
const msgPrefixSym = (pino.symbols as unknown as { msgPrefixSym: symbol }).msgPrefixSym;
const plainLoggers = new WeakMap<object, boolean>();

/**
 * A logger of createLogger's making (or a child of one) whose lines pino writes plainly: no
 * message prefix, mixin or nested key, the message under `msg`. Children share the parent's
 * options unless they override them, which these checks see.
 */
function writesPlainly(logger: Logger): boolean {
  let plain = plainLoggers.get(logger);
  if (plain === undefined) {
    let ours = false;
    for (let l: object | null = logger; l !== null && !ours; l = Object.getPrototypeOf(l)) ours = made.has(l);
    const internals = logger as unknown as Record<symbol, unknown>;
    plain =
      ours &&
      !internals[msgPrefixSym] &&
      !internals[mixinSym] &&
      !internals[nestedKeySym] &&
      internals[messageKeySym] === 'msg';
    plainLoggers.set(logger, plain);
  }
  return plain;
}

/**
 * Writes a "request completed" line at info, the text pino writes for
 * `logger.child({ requestId }).info({ req, res: { statusCode }, responseTime }, 'request completed')`
 * (tested byte for byte), without pino's generic path: no child logger, no serializer calls, no
 * redaction walk over objects that hold no credentials (the request part has no headers), one
 * string. That path was most of a cached read's logging cost. False when the logger is not one
 * of createLogger's or info is off: then log the usual way.
 */
export function writeRequestLine(logger: Logger, line: RequestLine): boolean {
  if (!logger.isLevelEnabled('info') || !writesPlainly(logger)) return false;
  const internals = logger as unknown as Record<symbol, unknown>;
  const { req } = line;
  const text =
    `{"level":30${isoTime()}${internals[chindingsSym] as string},"requestId":${JSON.stringify(line.requestId)}` +
    `,"req":${JSON.stringify({
      method: req.method,
      url: req.url,
      version: req.version,
      host: req.host,
      remoteAddress: req.remoteAddress,
      remotePort: req.remotePort,
    })},"res":{"statusCode":${line.statusCode}},"responseTime":${JSON.stringify(line.responseTime)},"msg":"request completed"}\n`;
  (internals[streamSym] as { write(text: string): void }).write(text);
  return true;
}
