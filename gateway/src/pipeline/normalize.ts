import type { IncomingMessage } from 'node:http';

/**
 * Normalise: the one path normalisation, and the framing checks a proxy must make itself.
 * The gateway matches on the normalised path and forwards exactly it, so the gateway and the
 * backend agree on what was asked:
 *
 * - only origin-form targets (`/path?query`); absolute-form (`http://host/`) and `*` are refused
 * - percent-encoded unreserved characters are decoded (`%61` → `a`, `%2E` → `.`), and so is an
 *   encoded slash (`%2F` → `/`), before dot segments are resolved: `/articles/..%2Fadmin` is
 *   `/admin`, and goes where the table sends `/admin`
 * - duplicate slashes collapse, `.` and `..` segments are resolved (never above the root)
 * - backslashes (raw or `%5C`), NUL and control characters, and malformed escapes are refused
 * - `%25` stays encoded, so nothing is decoded twice
 * - matching is case-insensitive (the lower-cased path), the forwarded path keeps its case
 */
export type Normalized =
  | { ok: true; path: string; lower: string; search: string }
  | { ok: false; reason: string };

// A path that needs no work: segments of ordinary characters, no "%", no "//", no dot segment.
const SIMPLE = /^(?:\/(?!\.{1,2}(?:\/|$))[A-Za-z0-9\-._~!$&'()*+,;=:@]+)*\/?$/;
// Anything outside visible ASCII is refused (Node's parser lets some through).
const BAD_CHAR = /[^\x21-\x7e]/;
const UNRESERVED = /[A-Za-z0-9\-._~]/;

export function normalizeTarget(url: string): Normalized {
  if (url.charCodeAt(0) !== 47 /* / */) {
    return { ok: false, reason: 'only origin-form request targets are accepted (no absolute-form, no "*")' };
  }
  if (BAD_CHAR.test(url)) return { ok: false, reason: 'request target contains forbidden characters' };
  const q = url.indexOf('?');
  const rawPath = q === -1 ? url : url.slice(0, q);
  const search = q === -1 ? '' : url.slice(q);
  if (rawPath.indexOf('#') !== -1) return { ok: false, reason: 'fragment in request target' };
  if (SIMPLE.test(rawPath)) return { ok: true, path: rawPath, lower: rawPath.toLowerCase(), search };
  return slowPath(rawPath, search);
}

function slowPath(rawPath: string, search: string): Normalized {
  if (rawPath.indexOf('\\') !== -1) return { ok: false, reason: 'backslash in path' };
  // 1. decode what may be decoded, refuse what must not be, keep the rest encoded (upper-case hex)
  let decoded = '';
  for (let i = 0; i < rawPath.length; i++) {
    const ch = rawPath[i]!;
    if (ch !== '%') {
      decoded += ch;
      continue;
    }
    const hex = rawPath.slice(i + 1, i + 3);
    if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return { ok: false, reason: 'malformed percent-encoding in path' };
    const code = Number.parseInt(hex, 16);
    const c = String.fromCharCode(code);
    if (code < 0x20 || code === 0x7f) return { ok: false, reason: 'encoded control character in path' };
    if (c === '\\') return { ok: false, reason: 'encoded backslash in path' };
    if (c === '/' || UNRESERVED.test(c)) decoded += c;
    else decoded += `%${hex.toUpperCase()}`;
    i += 2;
  }
  // 2. collapse slashes and resolve dot segments (RFC 3986 5.2.4, clamped at the root)
  const input = decoded.split('/');
  const out: string[] = [];
  let trailing = false;
  for (let i = 1; i < input.length; i++) {
    const seg = input[i]!;
    const last = i === input.length - 1;
    if (seg === '' || seg === '.') {
      if (last) trailing = out.length > 0;
      continue;
    }
    if (seg === '..') {
      out.pop();
      if (last) trailing = out.length > 0;
      continue;
    }
    out.push(seg);
    trailing = false;
  }
  const path = `/${out.join('/')}${trailing ? '/' : ''}`;
  return { ok: true, path, lower: path.toLowerCase(), search };
}

/**
 * What Node's parser lets through but a proxy must not pass on: HTTP/0.9, HTTP/1.1 without
 * Host, a Transfer-Encoding other than exactly `chunked` (Node emits the request before it
 * fails on the body), both framings at once, and more than one Host.
 */
export function requestSmell(req: IncomingMessage): string | null {
  if (req.httpVersionMajor !== 1) return 'unsupported HTTP version';
  if (req.httpVersionMinor === 1 && req.headers.host === undefined) return 'HTTP/1.1 request without Host';
  const te = req.headers['transfer-encoding'];
  if (te !== undefined) {
    if (te.toLowerCase() !== 'chunked') return 'unsupported Transfer-Encoding';
    if (req.headers['content-length'] !== undefined) return 'both Content-Length and Transfer-Encoding';
  }
  const raw = req.rawHeaders;
  let hosts = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const k = raw[i]!;
    if (k.length === 4 && k.toLowerCase() === 'host' && ++hosts > 1) return 'more than one Host header';
  }
  return null;
}
