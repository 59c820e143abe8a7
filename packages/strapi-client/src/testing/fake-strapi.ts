import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import qs from 'qs';

/**
 * An in-process fake of Strapi 5's REST API, for tests that need faults a real Strapi can't
 * produce on demand (500s, hangs, resets, Retry-After, slow answers) and for counting exactly
 * what reached "Strapi". Not a Strapi emulator: filters support `$eq`, `$eqi`, `$ne`, `$in`,
 * `$contains`, `$containsi`, `$null` on top-level fields; sort on top-level fields.
 */

export type FakeDocument = Record<string, unknown> & { documentId: string };

export type FakeFault =
  | { kind: 'status'; status: number; body?: unknown; headers?: Record<string, string> }
  /** Accept the request and never answer. */
  | { kind: 'hang' }
  /** Destroy the socket without answering. */
  | { kind: 'reset' };

export interface FakeStrapiRequest {
  method: string;
  /** Path without query. */
  path: string;
  /** Raw query string (without `?`). */
  query: string;
  headers: IncomingMessage['headers'];
  body: unknown;
}

export interface FakeStrapiOptions {
  /** Collections by plural API id. */
  collections?: Record<string, Array<Record<string, unknown>>>;
  /** Single types by singular API id. */
  singles?: Record<string, Record<string, unknown>>;
  /** When set, requests without `Authorization: Bearer <token>` get 401. */
  token?: string;
  /** Attributes that must be unique per collection, e.g. `{ subscribers: ['email'] }`. */
  unique?: Record<string, string[]>;
  /** Fixed port (to restart on the same one); 0 = ephemeral. */
  port?: number;
  /**
   * Answers `POST /graphql` (after faults, latency, hold and the token check, like every API
   * request): the fake does not execute GraphQL, the test scripts the answer, e.g. from
   * `fake.documents('authors')`. Unset: 404, as a Strapi without the GraphQL plugin.
   */
  graphql?: (
    request: FakeStrapiGraphQLRequest,
    fake: { documents(type: string): FakeDocument[] },
  ) => {
    status?: number;
    body: unknown;
  };
}

export interface FakeStrapiGraphQLRequest {
  query: string;
  variables: Record<string, unknown>;
  operationName: string | undefined;
}

export interface FakeStrapi {
  url: string;
  port: number;
  /** Every request received, in order (including failed and hanging ones). */
  requests: FakeStrapiRequest[];
  /** API requests received (excludes /_health). */
  readonly apiCalls: number;
  /** Requests being handled right now, and the maximum seen. */
  readonly inFlight: number;
  readonly maxInFlight: number;
  /** Apply a fault to every following API request (null = healthy). `times` limits it. */
  setFault(fault: FakeFault | null, times?: number): void;
  /** Delay every answer by `ms`. */
  setLatency(ms: number): void;
  /**
   * Hold every following API request until the returned function is called: makes
   * "how many are in flight at once" observable without timing.
   */
  hold(): () => void;
  /** Resolves when `n` requests are in flight (or rejects after `timeoutMs`). */
  waitForInFlight(n: number, timeoutMs?: number): Promise<void>;
  documents(type: string): FakeDocument[];
  resetCounters(): void;
  /** Stop listening and drop connections (Strapi "down"); `start()` listens again on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

const newDocumentId = () => randomBytes(12).toString('hex').slice(0, 24);

function envelope(status: number, name: string, message: string, details: unknown = {}) {
  return { data: null, error: { status, name, message, details } };
}

function matches(doc: Record<string, unknown>, filters: Record<string, unknown>): boolean {
  for (const [field, condition] of Object.entries(filters)) {
    if (field === '$and' && Array.isArray(condition)) {
      if (!condition.every((sub) => matches(doc, sub as Record<string, unknown>))) return false;
      continue;
    }
    if (field === '$or' && Array.isArray(condition)) {
      if (!condition.some((sub) => matches(doc, sub as Record<string, unknown>))) return false;
      continue;
    }
    const value = doc[field];
    const ops =
      condition !== null && typeof condition === 'object' && !Array.isArray(condition)
        ? (condition as Record<string, unknown>)
        : { $eq: condition };
    for (const [op, expected] of Object.entries(ops)) {
      const str = (v: unknown) => String(v ?? '');
      switch (op) {
        case '$eq':
          if (str(value) !== str(expected)) return false;
          break;
        case '$eqi':
          if (str(value).toLowerCase() !== str(expected).toLowerCase()) return false;
          break;
        case '$ne':
          if (str(value) === str(expected)) return false;
          break;
        case '$in':
          if (!(Array.isArray(expected) ? expected : [expected]).map(str).includes(str(value))) return false;
          break;
        case '$contains':
          if (!str(value).includes(str(expected))) return false;
          break;
        case '$containsi':
          if (!str(value).toLowerCase().includes(str(expected).toLowerCase())) return false;
          break;
        case '$null':
          if ((value === null || value === undefined) !== (str(expected) === 'true')) return false;
          break;
        default:
          // Unknown operators (relations, $lt, ...) are not filtered by the fake.
          break;
      }
    }
  }
  return true;
}

export async function startFakeStrapi(options: FakeStrapiOptions = {}): Promise<FakeStrapi> {
  const collections = new Map<string, FakeDocument[]>();
  const singles = new Map<string, FakeDocument>();
  let nextId = 1;
  const stamp = () => new Date().toISOString();
  const toDoc = (input: Record<string, unknown>): FakeDocument => ({
    id: nextId++,
    documentId: typeof input.documentId === 'string' ? input.documentId : newDocumentId(),
    createdAt: stamp(),
    updatedAt: stamp(),
    publishedAt: stamp(),
    ...input,
  });
  for (const [type, docs] of Object.entries(options.collections ?? {}))
    collections.set(type, docs.map(toDoc));
  for (const [type, doc] of Object.entries(options.singles ?? {})) singles.set(type, toDoc(doc));

  const requests: FakeStrapiRequest[] = [];
  let apiCalls = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  let fault: FakeFault | null = null;
  let faultTimes = Number.POSITIVE_INFINITY;
  let latency = 0;
  let gate: Promise<void> | null = null;
  const releasers = new Set<() => void>();
  const inFlightWaiters = new Set<() => void>();
  const sockets = new Set<Socket>();

  const send = (
    res: ServerResponse,
    status: number,
    body?: unknown,
    headers: Record<string, string> = {},
  ) => {
    if (res.destroyed) return;
    if (body === undefined) {
      res.writeHead(status, headers);
      res.end();
      return;
    }
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };

  const handleGraphQL = (req: FakeStrapiRequest, res: ServerResponse) => {
    if (!options.graphql) return send(res, 404, envelope(404, 'NotFoundError', 'Not Found'));
    if (req.method !== 'POST')
      return send(res, 405, envelope(405, 'MethodNotAllowedError', 'Method Not Allowed'));
    const body = (req.body ?? {}) as { query?: unknown; variables?: unknown; operationName?: unknown };
    const answer = options.graphql(
      {
        query: typeof body.query === 'string' ? body.query : '',
        variables: (body.variables ?? {}) as Record<string, unknown>,
        operationName: typeof body.operationName === 'string' ? body.operationName : undefined,
      },
      { documents: (type) => collections.get(type) ?? [] },
    );
    return send(res, answer.status ?? 200, answer.body);
  };

  const handleApi = (req: FakeStrapiRequest, res: ServerResponse) => {
    const parts = req.path
      .replace(/^\/api\/?/, '')
      .split('/')
      .filter(Boolean);
    const [type, documentId] = parts as [string | undefined, string | undefined];
    if (!type) return send(res, 404, envelope(404, 'NotFoundError', 'Not Found'));
    const query = qs.parse(req.query, { depth: 10, arrayLimit: 200 }) as Record<string, unknown>;
    const single = singles.get(type);
    if (single || (!collections.has(type) && options.singles && type in options.singles)) {
      if (req.method === 'GET') {
        return single
          ? send(res, 200, { data: single, meta: {} })
          : send(res, 404, envelope(404, 'NotFoundError', 'Not Found'));
      }
      if (req.method === 'PUT') {
        const data = (req.body as { data?: Record<string, unknown> } | undefined)?.data;
        if (!data) return send(res, 400, envelope(400, 'ValidationError', 'Missing "data" payload'));
        const updated = { ...single, ...data, documentId: single!.documentId, updatedAt: stamp() };
        singles.set(type, updated);
        return send(res, 200, { data: updated, meta: {} });
      }
      if (req.method === 'DELETE') {
        singles.delete(type);
        return send(res, 204);
      }
      return send(res, 405, envelope(405, 'MethodNotAllowedError', 'Method Not Allowed'));
    }
    const docs = collections.get(type);
    if (!docs) return send(res, 404, envelope(404, 'NotFoundError', 'Not Found'));
    if (req.method === 'GET' && !documentId) {
      let result = docs.filter((doc) => matches(doc, (query.filters as Record<string, unknown>) ?? {}));
      const sort = query.sort === undefined ? [] : Array.isArray(query.sort) ? query.sort : [query.sort];
      for (const spec of [...sort].reverse()) {
        const [field, dir] = String(spec).split(':') as [string, string | undefined];
        const sign = dir?.toLowerCase() === 'desc' ? -1 : 1;
        result = [...result].sort((a, b) =>
          String(a[field]) < String(b[field]) ? -sign : String(a[field]) > String(b[field]) ? sign : 0,
        );
      }
      const pagination = (query.pagination ?? {}) as Record<string, string>;
      const page = Math.max(1, Number(pagination.page ?? 1));
      const pageSize = Math.min(100, Math.max(1, Number(pagination.pageSize ?? 25)));
      const total = result.length;
      const data = result.slice((page - 1) * pageSize, page * pageSize);
      return send(res, 200, {
        data,
        meta: { pagination: { page, pageSize, pageCount: Math.ceil(total / pageSize), total } },
      });
    }
    if (req.method === 'GET') {
      const doc = docs.find((d) => d.documentId === documentId);
      return doc
        ? send(res, 200, { data: doc, meta: {} })
        : send(res, 404, envelope(404, 'NotFoundError', 'Not Found'));
    }
    if (req.method === 'POST' && !documentId) {
      const data = (req.body as { data?: Record<string, unknown> } | undefined)?.data;
      if (!data || typeof data !== 'object') {
        return send(res, 400, envelope(400, 'ValidationError', 'Missing "data" payload in the request body'));
      }
      for (const field of options.unique?.[type] ?? []) {
        if (docs.some((doc) => doc[field] === data[field])) {
          return send(
            res,
            400,
            envelope(400, 'ValidationError', 'This attribute must be unique', {
              errors: [{ path: [field], message: 'This attribute must be unique', name: 'ValidationError' }],
            }),
          );
        }
      }
      const doc = toDoc(data);
      docs.push(doc);
      return send(res, 201, { data: doc, meta: {} });
    }
    const index = docs.findIndex((d) => d.documentId === documentId);
    if (index < 0) return send(res, 404, envelope(404, 'NotFoundError', 'Not Found'));
    if (req.method === 'PUT') {
      const data = (req.body as { data?: Record<string, unknown> } | undefined)?.data;
      if (!data) return send(res, 400, envelope(400, 'ValidationError', 'Missing "data" payload'));
      const updated = { ...docs[index]!, ...data, documentId: docs[index]!.documentId, updatedAt: stamp() };
      docs[index] = updated;
      return send(res, 200, { data: updated, meta: {} });
    }
    if (req.method === 'DELETE') {
      docs.splice(index, 1);
      return send(res, 204);
    }
    return send(res, 405, envelope(405, 'MethodNotAllowedError', 'Method Not Allowed'));
  };

  const server: Server = createServer(async (incoming, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of incoming) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const [path = '/', query = ''] = (incoming.url ?? '/').split(/\?(.*)/s);
    let body: unknown;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = text;
    }
    const req: FakeStrapiRequest = {
      method: incoming.method ?? 'GET',
      path,
      query,
      headers: incoming.headers,
      body,
    };
    requests.push(req);
    if (path === '/_health') return send(res, 204);
    apiCalls++;
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    for (const wake of inFlightWaiters) wake();
    try {
      if (gate) await gate;
      if (latency > 0) await new Promise((resolve) => setTimeout(resolve, latency));
      if (fault && faultTimes > 0) {
        faultTimes--;
        const current = fault;
        if (faultTimes <= 0) fault = null;
        if (current.kind === 'hang') {
          await new Promise<void>((resolve) => res.on('close', () => resolve()));
          return;
        }
        if (current.kind === 'reset') {
          incoming.socket.destroy();
          return;
        }
        return send(
          res,
          current.status,
          current.body ?? envelope(current.status, 'InternalServerError', 'Injected fault'),
          current.headers,
        );
      }
      if (options.token && incoming.headers.authorization !== `Bearer ${options.token}`) {
        return send(res, 401, envelope(401, 'UnauthorizedError', 'Missing or invalid credentials'));
      }
      if (req.path === '/graphql') handleGraphQL(req, res);
      else handleApi(req, res);
    } finally {
      inFlight--;
    }
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  let port = options.port ?? 0;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        port = (server.address() as AddressInfo).port;
        resolve();
      });
    });
  const stop = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      if (!server.listening) return resolve();
      server.close(() => resolve());
    });
  await listen();

  return {
    get url() {
      return `http://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    requests,
    get apiCalls() {
      return apiCalls;
    },
    get inFlight() {
      return inFlight;
    },
    get maxInFlight() {
      return maxInFlight;
    },
    setFault(next, times = Number.POSITIVE_INFINITY) {
      fault = next;
      faultTimes = times;
    },
    setLatency(ms) {
      latency = ms;
    },
    hold() {
      let release!: () => void;
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      gate = held;
      const done = () => {
        if (gate === held) gate = null;
        releasers.delete(done);
        release();
      };
      releasers.add(done);
      return done;
    },
    waitForInFlight(n, timeoutMs = 10_000) {
      return new Promise<void>((resolve, reject) => {
        if (inFlight >= n) return resolve();
        const timer = setTimeout(() => {
          inFlightWaiters.delete(check);
          reject(new Error(`fake Strapi: ${inFlight} in flight after ${timeoutMs}ms, wanted ${n}`));
        }, timeoutMs);
        const check = () => {
          if (inFlight >= n) {
            clearTimeout(timer);
            inFlightWaiters.delete(check);
            resolve();
          }
        };
        inFlightWaiters.add(check);
      });
    },
    documents(type) {
      return collections.get(type) ?? [];
    },
    resetCounters() {
      requests.length = 0;
      apiCalls = 0;
      maxInFlight = inFlight;
    },
    stop,
    start: listen,
    async close() {
      for (const done of [...releasers]) done();
      await stop();
    },
  };
}
