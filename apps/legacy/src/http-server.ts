import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHttpServer, type HttpMetrics, type Logger } from '@pilot/service-kit';
import type { Express } from 'express';
import { UNMATCHED_ROUTE } from './middleware/metrics.ts';

export interface RunningServer {
  server: Server;
  url: string;
  port: number;
  /**
   * Graceful stop: stops accepting connections, lets in-flight requests finish (idle
   * keep-alive connections are closed at once, busy ones after their response), and after
   * `timeoutMs` destroys whatever is still open. Resolves when the server is closed;
   * `forced` says whether the deadline was hit.
   */
  close(timeoutMs?: number): Promise<{ forced: boolean }>;
}

export interface ListenOptions {
  host: string;
  port: number;
  /** Where requests the HTTP server refuses itself (malformed, CONNECT, Expect…) are logged. */
  logger?: Logger;
  /** Where they are counted (route `unmatched`). */
  metrics?: HttpMetrics;
}

/**
 * Serves the app on the shared HTTP server of @pilot/service-kit (createHttpServer): what
 * Node would answer by itself (parser errors, 431, CONNECT, Expect) is answered in the error
 * envelope. Used by server.ts and by tests (port 0 = ephemeral).
 */
export async function listen(app: Express, options: ListenOptions): Promise<RunningServer> {
  const { metrics } = options;
  const server = createHttpServer(app, {
    logger: options.logger,
    observe: metrics && ((method, status) => metrics.observe(method, UNMATCHED_ROUTE, status, 0)),
  });
  let closing = false;
  server.on('request', (_req, res) => {
    // After close() began, a keep-alive connection is ended after its current response.
    res.on('finish', () => {
      if (closing) server.closeIdleConnections();
    });
    if (closing) res.setHeader('connection', 'close');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port, address } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  let closed: Promise<{ forced: boolean }> | undefined;
  return {
    server,
    port,
    url: `http://${host}:${port}`,
    close(timeoutMs = 10_000) {
      closed ??= new Promise((resolve) => {
        closing = true;
        let forced = false;
        const timer = setTimeout(() => {
          forced = true;
          server.closeAllConnections();
        }, timeoutMs);
        timer.unref();
        server.close(() => {
          clearTimeout(timer);
          resolve({ forced });
        });
        server.closeIdleConnections();
      });
      return closed;
    },
  };
}
