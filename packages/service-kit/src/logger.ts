import { isoTime, stdoutLines } from '@pilot/telemetry';
import { pino, type Logger } from 'pino';

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
    // lines gathered into ~4 KiB chunks, written synchronously at least every 100 ms and at exit
    stdoutLines(),
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
  // each string checked where it is (joining them first made a string to flatten); the usual line
  // has nothing to escape, and then every string is only quoted
  const plain = !(
    NEEDS_ESCAPE.test(line.requestId) ||
    NEEDS_ESCAPE.test(req.method) ||
    NEEDS_ESCAPE.test(req.url) ||
    (req.version !== undefined && NEEDS_ESCAPE.test(req.version)) ||
    NEEDS_ESCAPE.test(req.host) ||
    (req.remoteAddress !== undefined && NEEDS_ESCAPE.test(req.remoteAddress))
  );
  const chindings = internals[chindingsSym] as string;
  const status = jsonNumber(line.statusCode);
  const responseTime = jsonNumber(line.responseTime);
  // the usual line: one template of its values and the constant text between them, ~19 string
  // pieces for the output to copy where the field helpers made ~28 (the rare line with
  // something to escape keeps them)
  const text = plain
    ? `{"level":30${isoTime()}${chindings},"requestId":"${line.requestId}","req":{"method":"${req.method}","url":"${req.url}"` +
      `${req.version === undefined ? '' : `,"version":"${req.version}"`},"host":"${req.host}"` +
      `${req.remoteAddress === undefined ? '' : `,"remoteAddress":"${req.remoteAddress}"`}` +
      `${req.remotePort === undefined ? '' : `,"remotePort":${jsonNumber(req.remotePort)}`}` +
      `},"res":{"statusCode":${status}},"responseTime":${responseTime},"msg":"request completed"}\n`
    : `{"level":30${isoTime()}${chindings},"requestId":${jsonString(line.requestId)}` +
      `,"req":{"method":${jsonString(req.method)}${jsonField('url', req.url)}${jsonField('version', req.version)}` +
      `${jsonField('host', req.host)}${jsonField('remoteAddress', req.remoteAddress)}` +
      `${jsonField('remotePort', req.remotePort)}}` +
      `,"res":{"statusCode":${status}},"responseTime":${responseTime},"msg":"request completed"}\n`;
  (internals[streamSym] as { write(text: string): void }).write(text);
  return true;
}

/**
 * What JSON.stringify makes of these values, for the request line's few short strings and
 * numbers: JSON.stringify is a call into the runtime (~2 k instructions for the request
 * object under callgrind); a string with nothing to escape needs only its quotes.
 */
function jsonString(value: string): string {
  return NEEDS_ESCAPE.test(value) ? JSON.stringify(value) : `"${value}"`;
}

/**
 * What JSON escapes: controls, `"`, `\\`, surrogates (a lone one is escaped; a pair is left to
 * JSON.stringify too). A regular expression, not a `charCodeAt` loop: under callgrind the loop
 * cost ~2.4 k instructions per request line against ~1.7 k.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are what JSON escapes
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

function jsonNumber(value: number): string {
  return Number.isFinite(value) ? String(value) : 'null';
}

/** `,"name":value` as JSON.stringify writes an object's property; nothing for undefined. */
function jsonField(name: string, value: string | number | undefined): string {
  if (value === undefined) return '';
  return `,"${name}":${typeof value === 'number' ? jsonNumber(value) : jsonString(value)}`;
}
