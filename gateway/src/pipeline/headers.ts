import type { IncomingMessage } from 'node:http';

/**
 * Headers on the way through: hop-by-hop ones stripped both ways (RFC 9110 7.6.1), ours set
 * (X-Request-Id, X-Forwarded-*, the backend header). Works on the parsed request headers going
 * up and on the backend's raw headers coming down (so repeated Set-Cookie survive), in one pass.
 */
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

/**
 * Hop-by-hop request headers, plus Expect (Node already answered 100-continue) and
 * HTTP2-Settings; the untrusted client's forwarding headers (replaced, see below) too.
 */
const REQUEST_HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'upgrade',
  'proxy-authorization',
  'proxy-authenticate',
  'expect',
  'http2-settings',
]);
const UNTRUSTED_FORWARDING = new Set(['forwarded', 'x-forwarded-port', 'x-real-ip', 'x-forwarded-host']);

const COMMON_CONNECTION = new Set(['keep-alive', 'close']);

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
  const conn = h.connection;
  // the common values name no other header: no token list to build
  if (conn !== undefined && !COMMON_CONNECTION.has(conn.toLowerCase())) {
    for (const token of connectionTokens(conn)) if (!FRAMING.has(token)) delete h[token];
  }
  // One pass over the names the request has, rather than a lookup of each name it might have:
  // under callgrind the ten lookups of mostly absent names (megamorphic, missing in the stub
  // cache) cost more than walking the handful present.
  const untrusted = !options.trustProxy;
  for (const name in h) {
    if (REQUEST_HOP_BY_HOP.has(name) || (untrusted && UNTRUSTED_FORWARDING.has(name))) delete h[name];
  }
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
    // forwarded, x-forwarded-port, x-real-ip and x-forwarded-host went in the pass above
    h['x-forwarded-for'] = remote;
    h['x-forwarded-proto'] = encrypted ? 'https' : 'http';
    if (h.host) h['x-forwarded-host'] = h.host;
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
  const drop = conn && !COMMON_CONNECTION.has(conn.toLowerCase()) ? new Set(connectionTokens(conn)) : null;
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
