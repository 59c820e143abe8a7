import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { answerAndClose, rawErrorResponse, refuseExpectation } from '../errors.ts';
import type { DataPlane } from './data-plane.ts';

/**
 * The public port: a bare node:http server handing every request to the pipeline. What never
 * becomes a request is answered here, on the socket, and the connection closed: CONNECT (never
 * an open proxy) and bytes the HTTP parser refuses.
 */
export interface PublicServer {
  server: http.Server;
  /** Open connections (destroyed once the shutdown grace is over). */
  sockets: Set<Socket>;
}

export function createPublicServer(plane: DataPlane, maxHeaderSize = 16 * 1024): PublicServer {
  const sockets = new Set<Socket>();
  const server = http.createServer(
    // Host is required of HTTP/1.1 (normalize.ts requestSmell), so that the refusal is an envelope: Node's own is bare
    { maxHeaderSize, requireHostHeader: false },
    (req, res) => plane.handle(req, res),
  );
  // Expect: 100-continue is answered only once the request passed the checks (413 before upload)
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => plane.handle(req, res, true));
  server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => {
    plane.metrics.rejected.labels('expectation').inc();
    refuseExpectation(req, res);
  });
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('connect', (_req: IncomingMessage, socket: Socket) => {
    plane.metrics.rejected.labels('connect').inc();
    answerAndClose(socket, rawErrorResponse(405, 'METHOD_NOT_ALLOWED', 'CONNECT is not supported'));
  });
  // No 'upgrade' listener on purpose: Node then treats an Upgrade request (WebSocket, h2c) as a
  // plain request, whose Upgrade/Connection headers are stripped as hop-by-hop. Never tunnelled.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    const headTooLarge = err.code === 'HPE_HEADER_OVERFLOW';
    plane.metrics.rejected.labels(headTooLarge ? 'header_too_large' : 'bad_request').inc();
    plane.logger.debug({ code: err.code }, 'client error');
    answerAndClose(
      socket,
      headTooLarge
        ? rawErrorResponse(431, 'HEADERS_TOO_LARGE', 'request head too large')
        : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? rawErrorResponse(408, 'REQUEST_TIMEOUT', 'request not received in time')
          : rawErrorResponse(400, 'BAD_REQUEST', 'malformed HTTP request'),
    );
  });
  return { server, sockets };
}
