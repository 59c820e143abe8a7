import { type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';

/** Errors with a stable `code` that callers (and tests) can switch on. */
export class GatewayError extends Error {
  readonly code: string;
  readonly status: number;
  constructor(code: string, status: number, message: string) {
    super(message);
    this.name = 'GatewayError';
    this.code = code;
    this.status = status;
  }
}

export interface TableIssue {
  /** Dotted field path, e.g. `routes[2].split`. */
  path: string;
  message: string;
  line?: number;
  column?: number;
}

/** A route table that could not be loaded: names the file, line and field of every problem. */
export class TableError extends GatewayError {
  readonly issues: TableIssue[];
  readonly file: string;
  constructor(file: string, issues: TableIssue[]) {
    const lines = issues.map((i) => {
      const where = i.line !== undefined ? `${file}:${i.line}:${i.column ?? 1}` : file;
      return `  ${where} ${i.path ? `${i.path}: ` : ''}${i.message}`;
    });
    super('TABLE_INVALID', 422, `invalid route table ${file}\n${lines.join('\n')}`);
    this.name = 'TableError';
    this.issues = issues;
    this.file = file;
  }
}

/** The error envelope both services use, so a client cannot tell a gateway error from an app error by shape. */
export function sendError(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  close = false,
  extra: Record<string, string> = {},
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ error: { status, code, message } });
  const headers: Record<string, string | number> = {
    ...extra,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  };
  if (close) headers.connection = 'close';
  res.writeHead(status, headers);
  res.end(body);
}

/**
 * The same envelope written straight to a socket, for answers the HTTP server gives before a
 * request object exists (the parser refused the bytes); the connection closes after it.
 */
export function rawErrorResponse(status: number, code: string, message: string): string {
  const body = JSON.stringify({ error: { status, code, message } });
  return (
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
    'Content-Type: application/json; charset=utf-8\r\n' +
    'Cache-Control: no-store\r\n' +
    'Connection: close\r\n' +
    `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
  );
}

/** How long a refused connection may take to read its answer before it is closed for good. */
const LINGER_MS = 1_000;
const answered = new WeakSet<Duplex>();

/**
 * Writes the answer, half-closes, and keeps reading (and dropping) what the client still sends
 * for LINGER_MS: closing on unread bytes makes the kernel reset the connection, and a client
 * still sending (an unknown method with a body, a broken upload) would lose the answer with it.
 * Node's parser reports every further chunk as another client error: answered once. A response
 * still going out on the connection (a pipelined request before the bad bytes) is finished first.
 */
export function answerAndClose(socket: Duplex, answer: string): void {
  if (answered.has(socket)) return;
  answered.add(socket);
  socket.on('error', () => {});
  let done = false;
  const go = () => {
    if (done) return;
    done = true;
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    socket.end(answer);
    socket.resume();
    setTimeout(() => socket.destroy(), LINGER_MS).unref();
  };
  const inFlight = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
  if (inFlight && !inFlight.writableFinished) {
    socket.resume();
    inFlight.once('finish', go);
    inFlight.once('close', go);
  } else go();
}

/**
 * An `Expect` other than 100-continue, the one expectation the gateway meets: 417 in the
 * envelope (Node's own answer, when nothing listens for it, is a bare status line). The body,
 * if any, is read and dropped so the connection stays usable.
 */
export function refuseExpectation(req: IncomingMessage, res: ServerResponse): void {
  drainBounded(req);
  sendError(res, 417, 'EXPECTATION_FAILED', 'the only expectation supported is "Expect: 100-continue"');
}

/** Bytes of a refused request body read and dropped before the connection is cut instead. */
export const MAX_DRAIN_BYTES = 4 * 1024 * 1024;

/**
 * Reads and drops the rest of a request body that was refused (413 and the like) so that the
 * connection stays usable and the answer is not lost to a reset; past MAX_DRAIN_BYTES the
 * connection is cut.
 */
export function drainBounded(req: IncomingMessage): void {
  let seen = 0;
  req.on('data', (chunk: Buffer) => {
    seen += chunk.length;
    if (seen > MAX_DRAIN_BYTES) req.socket.destroy();
  });
  req.resume();
}
