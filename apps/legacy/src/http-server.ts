import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { LIMITS } from '@pilot/contracts';
import type { Express } from 'express';

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

/**
 * Serves the app on node:http with the contract's header size limit (larger → 431 from the
 * parser). Used by server.ts and by tests (port 0 = ephemeral).
 */
export async function listen(app: Express, options: { host: string; port: number }): Promise<RunningServer> {
  const server = createServer({ maxHeaderSize: LIMITS.maxHeaderBytes }, app);
  // Slow-loris bounds (Node's defaults, stated): whole request 5 min, headers 60 s.
  server.requestTimeout = 300_000;
  server.headersTimeout = 60_000;
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
