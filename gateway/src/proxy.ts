import type { ClientRequest, IncomingMessage, ServerResponse } from 'node:http';
import { Transform, type TransformCallback } from 'node:stream';
import { createProxyMiddleware, type Plugin } from 'http-proxy-middleware';

/**
 * Step 4 of the pipeline: forward. One http-proxy-middleware instance (httpxy underneath)
 * serves every route; its `router` hook hands it the backend chosen for this request and that
 * backend's keep-alive agent. The response is written by us (`selfHandleResponse`) so that
 * hop-by-hop headers are stripped, the backend header and request id added, a 5xx can still go
 * to a fallback, and a shadowed route can capture the served body for the diff. Bodies stream
 * both ways; nothing is parsed.
 */
export interface ProxyTarget {
  url: URL;
  agent: import('node:http').Agent;
  /** A stream to send instead of `req` (the body tap), if any. */
  body?: NodeJS.ReadableStream;
}

export interface ProxyHooks {
  target(req: IncomingMessage): ProxyTarget;
  onProxyReq(proxyReq: ClientRequest, req: IncomingMessage): void;
  onProxyRes(proxyRes: IncomingMessage, req: IncomingMessage, res: ServerResponse): void;
  onError(err: Error, req: IncomingMessage, res: ServerResponse): void;
}

export type Forward = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

export function createForward(hooks: ProxyHooks): Forward {
  const plugin: Plugin = (proxyServer) => {
    proxyServer.on('proxyReq', (proxyReq, req) => {
      if (req) hooks.onProxyReq(proxyReq, req);
    });
    proxyServer.on('proxyRes', (proxyRes, req, res) => hooks.onProxyRes(proxyRes, req, res));
    proxyServer.on('error', (err, req, res) => {
      if (req && res && 'writeHead' in res) hooks.onError(err, req, res as ServerResponse);
    });
    // the client's socket is gone before the upstream answered: same path, it sees req.destroyed
    proxyServer.on('econnreset', (err, req, res) => {
      if (req && res && 'writeHead' in res) hooks.onError(err, req, res as ServerResponse);
    });
  };
  const middleware = createProxyMiddleware({
    router: (req, _res, options) => {
      const t = hooks.target(req);
      options.agent = t.agent;
      if (t.body) options.buffer = t.body as never;
      return t.url;
    },
    changeOrigin: true,
    xfwd: false,
    selfHandleResponse: true,
    ejectPlugins: true,
    plugins: [plugin],
  });
  return (req, res) => middleware(req, res);
}

/** Hop-by-hop headers (RFC 9110 7.6.1) plus the legacy ones proxies still see. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'proxy-authenticate',
  'proxy-authorization',
]);

/** Headers a Connection token may not remove: the request's framing and target. */
const FRAMING = new Set(['content-length', 'transfer-encoding', 'host']);

function connectionTokens(value: string | string[] | undefined): string[] {
  if (!value) return [];
  const s = Array.isArray(value) ? value.join(',') : value;
  return s
    .split(',')
    .map((t) => t.trim().toLowerCase())
    .filter((t) => t.length > 0);
}

export interface UpstreamHeaderOptions {
  requestId: string;
  trustProxy: boolean;
}

/**
 * Strips hop-by-hop request headers (keeping the body's framing, which Node re-encodes) and sets
 * X-Request-Id and X-Forwarded-For/-Proto/-Host. Untrusted clients' X-Forwarded-* and Forwarded
 * are replaced, never appended to.
 */
export function prepareUpstreamHeaders(req: IncomingMessage, options: UpstreamHeaderOptions): void {
  const h = req.headers;
  if (h.connection !== undefined) {
    for (const token of connectionTokens(h.connection)) if (!FRAMING.has(token)) delete h[token];
  }
  delete h.connection;
  delete h['keep-alive'];
  delete h['proxy-connection'];
  delete h.te;
  delete h.trailer;
  delete h.upgrade;
  delete h['proxy-authorization'];
  delete h['proxy-authenticate'];
  delete h.expect; // Node already answered 100-continue
  delete h['http2-settings'];
  // Node accepts only chunked as the final coding; say exactly that upstream.
  if (h['transfer-encoding'] !== undefined) h['transfer-encoding'] = 'chunked';
  h['x-request-id'] = options.requestId;
  const remote = req.socket.remoteAddress ?? '';
  const encrypted = (req.socket as { encrypted?: boolean }).encrypted === true;
  if (options.trustProxy) {
    const prior = h['x-forwarded-for'];
    h['x-forwarded-for'] = prior ? `${Array.isArray(prior) ? prior.join(', ') : prior}, ${remote}` : remote;
    if (!h['x-forwarded-proto']) h['x-forwarded-proto'] = encrypted ? 'https' : 'http';
    if (!h['x-forwarded-host'] && h.host) h['x-forwarded-host'] = h.host;
  } else {
    delete h.forwarded;
    delete h['x-forwarded-port'];
    delete h['x-real-ip'];
    h['x-forwarded-for'] = remote;
    h['x-forwarded-proto'] = encrypted ? 'https' : 'http';
    if (h.host) h['x-forwarded-host'] = h.host;
    else delete h['x-forwarded-host'];
  }
}

/**
 * The response head for the client: the backend's headers (raw, so repeated Set-Cookie survive)
 * minus hop-by-hop and anything named in its Connection header, plus ours.
 */
export function responseHeaders(
  proxyRes: IncomingMessage,
  extra: string[],
  own: ReadonlySet<string>,
): string[] {
  const raw = proxyRes.rawHeaders;
  const conn = proxyRes.headers.connection;
  // the common values name no other header: skip building a set
  const drop = conn && conn !== 'keep-alive' && conn !== 'close' ? new Set(connectionTokens(conn)) : null;
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const key = raw[i]!;
    const lower = key.toLowerCase();
    if (HOP_BY_HOP.has(lower) || own.has(lower) || drop?.has(lower)) continue;
    out.push(key, raw[i + 1]!);
  }
  for (const v of extra) out.push(v);
  return out;
}

export class BodyLimitError extends Error {
  readonly code = 'BODY_TOO_LARGE';
}

/**
 * The request body on its way upstream: counts bytes against the limit (chunked bodies; a
 * Content-Length over the limit is refused before this) and tees chunks to a shadow mirror.
 */
export class BodyTap extends Transform {
  private seen = 0;
  private readonly limit: number;
  private readonly onChunk: ((chunk: Buffer) => void) | undefined;
  private readonly onEnd: (() => void) | undefined;

  constructor(limit: number, onChunk?: (chunk: Buffer) => void, onEnd?: () => void) {
    super();
    this.limit = limit;
    this.onChunk = onChunk;
    this.onEnd = onEnd;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.limit) {
      cb(new BodyLimitError(`request body over ${this.limit} bytes`));
      return;
    }
    this.onChunk?.(chunk);
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    this.onEnd?.();
    cb();
  }
}
