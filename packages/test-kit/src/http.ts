import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TestServer {
  server: Server;
  url: string;
  port: number;
  /** Requests seen so far, in order. */
  requests: Array<{ method: string; url: string; headers: IncomingMessage['headers']; body: string }>;
  close(): Promise<void>;
}

export type TestHandler = (
  req: IncomingMessage & { body: string },
  res: ServerResponse,
) => void | Promise<void>;

/** Starts a plain node:http server on an ephemeral 127.0.0.1 port; the handler sees the buffered body. */
export async function startTestServer(handler: TestHandler): Promise<TestServer> {
  const requests: TestServer['requests'] = [];
  const sockets = new Set<import('node:net').Socket>();
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of req) chunks.push(chunk as Buffer);
    } catch {
      // the client aborted mid-upload: nothing to answer, and no unhandled rejection
      return;
    }
    const body = Buffer.concat(chunks).toString('utf8');
    requests.push({ method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, body });
    try {
      await handler(Object.assign(req, { body }), res);
    } catch (error) {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(String(error));
    }
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    port,
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * A deterministic slow upstream for /aggregate: answers `{ source, delayMs }` JSON after
 * `delayMs`. `hang: true` accepts and never answers (for timeout tests).
 */
export async function startDelayedUpstream(
  source: string,
  options: { delayMs?: number; hang?: boolean; status?: number } = {},
): Promise<TestServer> {
  const { delayMs = 0, hang = false, status = 200 } = options;
  return startTestServer(async (_req, res) => {
    if (hang) return;
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ source, delayMs }));
  });
}
