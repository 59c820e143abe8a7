import {
  createServer,
  type IncomingMessage,
  type RequestListener,
  type Server,
  type ServerResponse,
  STATUS_CODES,
} from 'node:http';
import type { Duplex } from 'node:stream';
import { type ErrorCode, type ErrorEnvelope, errorBody, HEADERS, LIMITS } from '@pilot/contracts';
import type { Logger } from './logger.ts';
import { requestIdFrom } from './request-id.ts';

export interface HttpServerOptions {
  /** One info line per request the server refuses itself (no route ever sees it). */
  logger?: Logger | undefined;
  /**
   * Counts such a refusal (the apps record it as an unmatched route). `method` is UNKNOWN when
   * the request line could not be read.
   */
  observe?: ((method: string, status: number) => void) | undefined;
  /** Whole request (not the response: SSE), default 300 s. */
  requestTimeoutMs?: number;
  /** Request headers, default 60 s. */
  headersTimeoutMs?: number;
  /** Idle keep-alive connection, default Node's 5 s. */
  keepAliveTimeoutMs?: number;
  /** How often those timeouts are checked, default Node's 30 s (tests make it short). */
  timeoutCheckIntervalMs?: number;
}

/** The largest body any route takes: `Expect: 100-continue` announcing more is refused before it is sent. */
const LARGEST_BODY = Math.max(LIMITS.bodyLimitBytes, LIMITS.webhookBodyLimitBytes);
/** How long a refused connection may take to read its answer before it is closed for good. */
const LINGER_MS = 1_000;
/** The methods of the public API: what a 405 lists in Allow. */
const ALLOWED_METHODS = 'GET, HEAD, POST';

/** HTTP parser errors (llhttp's codes and Node's timeout) with an answer more precise than 400. */
const PARSER_ERRORS: Record<string, ErrorCode> = {
  HPE_HEADER_OVERFLOW: 'HEADERS_TOO_LARGE',
  HPE_CHUNK_EXTENSIONS_OVERFLOW: 'PAYLOAD_TOO_LARGE',
  ERR_HTTP_REQUEST_TIMEOUT: 'REQUEST_TIMEOUT',
};

function envelopeHeaders(json: string, extra: Record<string, string>): Record<string, string> {
  return {
    'content-type': HEADERS.contentType,
    'content-length': String(Buffer.byteLength(json)),
    'cache-control': HEADERS.privateCacheControl,
    ...extra,
    connection: 'close',
  };
}

/** A whole HTTP/1.1 answer, for a socket that has no response object. */
function rawAnswer(body: ErrorEnvelope, extra: Record<string, string> = {}): string {
  const json = JSON.stringify(body);
  const status = body.error.status;
  const head = Object.entries(envelopeHeaders(json, extra)).map(([name, value]) => `${name}: ${value}\r\n`);
  return `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n${head.join('')}\r\n${json}`;
}

const answeredSockets = new WeakSet<Duplex>();

/**
 * Writes the answer, half-closes, and keeps reading (and dropping) what the client still sends
 * for LINGER_MS: closing with unread bytes would make the kernel reset the connection, and a
 * client still sending (a proxy streaming a body) could lose the answer with it.
 */
function answerAndClose(socket: Duplex, answer: string): void {
  answeredSockets.add(socket);
  socket.on('error', () => {});
  socket.end(answer);
  socket.resume();
  setTimeout(() => socket.destroy(), LINGER_MS).unref();
}

function declaredLength(req: IncomingMessage): number {
  const header = req.headers['content-length'];
  return header === undefined ? 0 : Number(header);
}

/**
 * Bounds a request body no route will ever take in full: past LIMITS.maxDrainBytes the
 * connection is closed, whether the app is still reading it or has answered already. And once
 * the answer is out, what is left of a body nobody read (a request refused early) is read and
 * dropped, so the keep-alive connection stays usable. Counted on the socket: Node drops a
 * dumped request's body before it becomes 'data'.
 */
function boundBody(req: IncomingMessage, res: ServerResponse): void {
  const socket = req.socket;
  const start = socket.bytesRead;
  // runs after the HTTP parser's own listener: `complete` already covers this chunk
  const watch = () => {
    if (req.complete) socket.off('data', watch);
    else if (socket.bytesRead - start > LIMITS.maxDrainBytes) socket.destroy();
  };
  socket.on('data', watch);
  req.once('close', () => socket.off('data', watch));
  res.once('finish', () => {
    if (req.complete || req.destroyed) return;
    // a body the app stopped reading half-way (a parser past its limit) must flow again
    req.removeAllListeners('data');
    req.unpipe();
    req.resume();
  });
}

/**
 * Fastify insists on a `clientErrorHandler` of its own; with a server from createHttpServer
 * (its `serverFactory`) that server already answers, so Fastify's must stay silent.
 */
export function leaveClientErrorsToServer(): void {}

/**
 * The HTTP server both apps run on. What Node answers by itself, before any app code runs, is
 * answered here in the contract's error envelope instead of a bare status line:
 *
 * - HTTP parser errors (`clientError`): 431 headers too large, 408 request timeout, 413 chunk
 *   extensions too large, 400 for anything else (bad Content-Length, smuggling, bad chunking…);
 * - `Expect` other than 100-continue → 417; `Expect: 100-continue` announcing a body larger
 *   than any route takes → 413 before the body is sent;
 * - CONNECT → 405 (this is not a proxy);
 * - an HTTP/1.1 request without Host → 400.
 *
 * Each of those answers closes the connection. A request the app refuses before reading its
 * body keeps its connection: the rest is drained; a body declared larger than
 * LIMITS.maxDrainBytes gets `Connection: close` at once, and one that streams past it (chunked)
 * has its connection closed.
 */
export function createHttpServer(handler: RequestListener, options: HttpServerOptions = {}): Server {
  const { logger, observe } = options;

  function refused(fields: Record<string, unknown>, method: string, body: ErrorEnvelope): void {
    logger?.info(
      { ...fields, method, status: body.error.status, code: body.error.code },
      'request refused by the HTTP server',
    );
    observe?.(method, body.error.status);
  }

  function refuse(req: IncomingMessage, res: ServerResponse, body: ErrorEnvelope): void {
    const json = JSON.stringify(body);
    const requestId = requestIdFrom(req.headers[HEADERS.requestId]);
    res.writeHead(body.error.status, envelopeHeaders(json, { [HEADERS.requestId]: requestId }));
    res.end(json);
    refused({ requestId, url: req.url }, req.method ?? 'UNKNOWN', body);
  }

  const guarded: RequestListener = (req, res) => {
    if (req.headers.host === undefined && req.httpVersionMajor === 1 && req.httpVersionMinor >= 1) {
      refuse(req, res, errorBody('BAD_REQUEST', { message: 'An HTTP/1.1 request needs a Host header.' }));
      return;
    }
    const declared = declaredLength(req);
    if (declared > LIMITS.maxDrainBytes) res.setHeader('connection', 'close');
    else if (declared > 0 || req.headers['transfer-encoding'] !== undefined) boundBody(req, res);
    handler(req, res);
  };

  const server = createServer(
    {
      maxHeaderSize: LIMITS.maxHeaderBytes,
      requireHostHeader: false,
      ...(options.timeoutCheckIntervalMs
        ? { connectionsCheckingInterval: options.timeoutCheckIntervalMs }
        : {}),
    },
    guarded,
  );
  // Slow-loris bounds (Node's defaults, stated).
  server.requestTimeout = options.requestTimeoutMs ?? 300_000;
  server.headersTimeout = options.headersTimeoutMs ?? 60_000;
  if (options.keepAliveTimeoutMs !== undefined) server.keepAliveTimeout = options.keepAliveTimeoutMs;

  server.on('clientError', (error: Error & { code?: string }, socket: Duplex) => {
    if (answeredSockets.has(socket)) return; // the parser reports every later chunk again
    // a response already on its way cannot be followed by another (Node's own rule)
    const inFlight = (socket as Duplex & { _httpMessage?: ServerResponse | null })._httpMessage;
    if (error.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
      socket.destroy();
      return;
    }
    const body = errorBody(PARSER_ERRORS[error.code ?? ''] ?? 'BAD_REQUEST');
    answerAndClose(socket, rawAnswer(body));
    refused({ parserError: error.code }, 'UNKNOWN', body);
  });

  server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => {
    refuse(req, res, errorBody('EXPECTATION_FAILED'));
  });

  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    if (declaredLength(req) > LARGEST_BODY) {
      refuse(req, res, errorBody('PAYLOAD_TOO_LARGE'));
      return;
    }
    res.writeContinue();
    server.emit('request', req, res);
  });

  server.on('connect', (req: IncomingMessage, socket: Duplex) => {
    const body = errorBody('METHOD_NOT_ALLOWED', {
      message: 'CONNECT is not supported: this is not a proxy.',
    });
    const requestId = requestIdFrom(req.headers[HEADERS.requestId]);
    answerAndClose(socket, rawAnswer(body, { allow: ALLOWED_METHODS, [HEADERS.requestId]: requestId }));
    refused({ requestId, url: req.url }, 'CONNECT', body);
  });

  return server;
}
