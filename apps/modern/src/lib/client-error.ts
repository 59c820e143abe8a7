import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';

/**
 * Errors of the HTTP parser (header too large, malformed request line) happen before any
 * route or error handler. Answer them like Node's own default (what legacy's plain http server
 * does): a bare status line, no body, connection closed; never Fastify's JSON shape.
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const status =
    error.code === 'HPE_HEADER_OVERFLOW' ? 431 : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  if (socket.writable)
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\n\r\n`);
  socket.destroy(error);
}
