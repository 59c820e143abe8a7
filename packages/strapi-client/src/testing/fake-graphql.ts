import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * An in-process fake of Strapi's GraphQL endpoint whose answers the test scripts: for what a
 * real Strapi can't be made to do on demand (200 with `errors` and partial data, resolver
 * failures, 5xx, 429 with Retry-After, hangs, resets) and for counting what reached "Strapi".
 * It does not execute GraphQL: `answer` decides each response from the request.
 */

export interface FakeGraphQLRequest {
  query: string;
  variables: Record<string, unknown>;
  operationName: string | undefined;
  headers: IncomingMessage['headers'];
}

export type FakeGraphQLAnswer =
  | { status?: number; body: unknown; headers?: Record<string, string> }
  /** Accept the request and never answer. */
  | { kind: 'hang' }
  /** Destroy the socket without answering. */
  | { kind: 'reset' };

export type FakeGraphQLResponder = (
  request: FakeGraphQLRequest,
  call: number,
) => FakeGraphQLAnswer | Promise<FakeGraphQLAnswer>;

export interface FakeGraphQL {
  url: string;
  /** Every request to the endpoint, in order. */
  readonly requests: FakeGraphQLRequest[];
  readonly calls: number;
  readonly inFlight: number;
  /** Answers from now on (call is 1-based over the fake's life). */
  respond(responder: FakeGraphQLResponder): void;
  /** Holds every following request until the returned function is called. */
  hold(): () => void;
  /** Resolves when `n` requests are in flight (rejects after `timeoutMs`). */
  waitForInFlight(n: number, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export interface FakeGraphQLOptions {
  /** Endpoint path. Default `/graphql`. */
  path?: string;
  responder?: FakeGraphQLResponder;
}

export async function startFakeGraphQL(options: FakeGraphQLOptions = {}): Promise<FakeGraphQL> {
  const path = options.path ?? '/graphql';
  let responder: FakeGraphQLResponder = options.responder ?? (() => ({ body: { data: {} } }));
  const requests: FakeGraphQLRequest[] = [];
  const sockets = new Set<Socket>();
  let inFlight = 0;
  let held: Array<() => void> | undefined;
  const inFlightWaiters = new Set<() => void>();

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (req.method !== 'POST' || req.url !== path) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({ data: null, error: { status: 404, name: 'NotFoundError', message: 'Not Found' } }),
      );
      return;
    }
    let parsed: { query?: unknown; variables?: unknown; operationName?: unknown } = {};
    try {
      parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      // An unparsable body reaches the responder as an empty query.
    }
    const request: FakeGraphQLRequest = {
      query: typeof parsed.query === 'string' ? parsed.query : '',
      variables: (parsed.variables ?? {}) as Record<string, unknown>,
      operationName: typeof parsed.operationName === 'string' ? parsed.operationName : undefined,
      headers: req.headers,
    };
    requests.push(request);
    const call = requests.length;
    inFlight++;
    for (const wake of inFlightWaiters) wake();
    try {
      if (held) await new Promise<void>((resolve) => held?.push(resolve));
      const answer = await responder(request, call);
      if ('kind' in answer) {
        if (answer.kind === 'reset') req.socket.destroy();
        // hang: leave the request open until the client gives up or the fake closes
        if (answer.kind === 'hang') await new Promise<void>((resolve) => res.once('close', resolve));
        return;
      }
      res.writeHead(answer.status ?? 200, { 'content-type': 'application/json', ...(answer.headers ?? {}) });
      res.end(typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body));
    } finally {
      inFlight--;
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    get calls() {
      return requests.length;
    },
    get inFlight() {
      return inFlight;
    },
    respond(next) {
      responder = next;
    },
    hold() {
      const queue: Array<() => void> = [];
      held = queue;
      return () => {
        if (held === queue) held = undefined;
        for (const release of queue.splice(0)) release();
      };
    },
    waitForInFlight(n, timeoutMs = 10_000) {
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          if (inFlight < n) return;
          clearTimeout(timer);
          inFlightWaiters.delete(check);
          resolve();
        };
        const timer = setTimeout(() => {
          inFlightWaiters.delete(check);
          reject(new Error(`fewer than ${n} requests in flight after ${timeoutMs}ms (now ${inFlight})`));
        }, timeoutMs);
        inFlightWaiters.add(check);
        check();
      });
    },
    close() {
      return new Promise<void>((resolve) => {
        held = undefined;
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      });
    },
  };
}
