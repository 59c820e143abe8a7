import net from 'node:net';
import { type Agent, request } from 'undici';
import type { HttpCase, RawCase } from './arbitraries.ts';

/**
 * Sends one generated case and judges the answer. A verdict is `null` (fine), a string (what is
 * wrong), or SKIP (the client library refused to send it: no statement about the server).
 *
 * Fine means: a well-formed HTTP/1.x answer (or, for bytes that are not HTTP, a closed
 * connection), every 4xx/5xx in the error envelope `{"error":{"status","code","message"}}` with
 * the status it was sent with, and an answer or a close within the deadline (no wedged request).
 */
export const SKIP = Symbol('skip');
export type Verdict = string | null | typeof SKIP;

const DEADLINE_MS = 15_000;
const MAX_BODY = 4 * 1024 * 1024;

export function envelopeProblem(status: number, text: string): string | null {
  if (text.length === 0) return `${status} with an empty body (expected the error envelope)`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return `${status} with a body that is not JSON: ${JSON.stringify(text.slice(0, 200))}`;
  }
  const error = (parsed as { error?: Record<string, unknown> } | null)?.error;
  if (!error || typeof error !== 'object')
    return `${status} without an "error" object: ${text.slice(0, 200)}`;
  if (error.status !== status) return `${status} but error.status is ${JSON.stringify(error.status)}`;
  if (typeof error.code !== 'string' || error.code.length === 0) return `${status} without error.code`;
  if (typeof error.message !== 'string') return `${status} without error.message`;
  return null;
}

export async function sendHttp(base: string, c: HttpCase, dispatcher: Agent): Promise<Verdict> {
  let res: Awaited<ReturnType<typeof request>>;
  try {
    res = await request(`${base}${c.path}`, {
      method: c.method as 'GET',
      headers: c.headers,
      body: c.body,
      dispatcher,
      headersTimeout: DEADLINE_MS,
      bodyTimeout: DEADLINE_MS,
    });
  } catch (error) {
    const e = error as Error & { code?: string };
    if (
      e.code === 'UND_ERR_INVALID_ARG' ||
      e.code === 'UND_ERR_NOT_SUPPORTED' ||
      e.name === 'InvalidArgumentError'
    ) {
      return SKIP;
    }
    // Past the admin API's 1 MiB body limit a server may refuse an upload by answering and
    // closing before the client finished sending it: a closed connection is an allowed answer.
    const size = c.body === undefined ? 0 : Buffer.byteLength(c.body);
    const closed = e.code === 'UND_ERR_SOCKET' || e.code === 'ECONNRESET' || e.code === 'EPIPE';
    if (closed && size > 1024 * 1024) return null;
    if (e.code === 'UND_ERR_HEADERS_TIMEOUT') return `no response head within ${DEADLINE_MS} ms`;
    return `client error ${e.code ?? e.name}: ${e.message}`;
  }
  const status = res.statusCode;
  // we may stop reading (an endless stream, a huge body): that abort is ours, not an error
  res.body.on('error', () => {});
  if (!Number.isInteger(status) || status < 100 || status > 599) return `status ${status}`;
  const type = String(res.headers['content-type'] ?? '');
  if (type.startsWith('text/event-stream')) {
    res.body.destroy();
    return status < 400 ? null : `${status} as an event stream`;
  }
  let text = '';
  try {
    let size = 0;
    const chunks: Buffer[] = [];
    for await (const chunk of res.body) {
      size += (chunk as Buffer).length;
      if (size > MAX_BODY) {
        res.body.destroy();
        break;
      }
      chunks.push(chunk as Buffer);
    }
    text = Buffer.concat(chunks).toString('utf8');
  } catch (error) {
    const e = error as Error & { code?: string };
    if (e.code === 'UND_ERR_BODY_TIMEOUT') return `response body stalled for ${DEADLINE_MS} ms`;
    return `response body failed: ${e.code ?? e.name}: ${e.message}`;
  }
  if (status >= 400 && c.method !== 'HEAD') return envelopeProblem(status, text);
  return null;
}

interface Parsed {
  status: number;
  body: Buffer;
  /** An event stream that was still going when the connection ended. */
  stream: boolean;
}

const isStream = (headers: Map<string, string>) =>
  headers.get('content-type')?.startsWith('text/event-stream') === true;

/** Splits what came back into HTTP/1.x answers; a string when it is not a sequence of them. */
export function parseAnswers(data: Buffer, firstIsHead: boolean): Parsed[] | string {
  const out: Parsed[] = [];
  let at = 0;
  while (at < data.length) {
    const headEnd = data.indexOf('\r\n\r\n', at, 'latin1');
    if (headEnd < 0)
      return `an incomplete answer head: ${JSON.stringify(data.toString('latin1', at, at + 200))}`;
    const lines = data.toString('latin1', at, headEnd).split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3})(?: [^\r\n]*)?$/.exec(lines[0] ?? '');
    if (!m) return `not an HTTP status line: ${JSON.stringify((lines[0] ?? '').slice(0, 200))}`;
    const status = Number(m[1]);
    if (status < 100 || status > 599) return `status ${status}`;
    const headers = new Map<string, string>();
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon <= 0) return `malformed header line in an answer: ${JSON.stringify(line.slice(0, 200))}`;
      headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    let start = headEnd + 4;
    // the first request's final answer has no body when it was a HEAD; interim 1xx answers
    // (100 Continue to an Expect) come before it
    const answersHead = firstIsHead && status >= 200 && !out.some((a) => a.status >= 200);
    const noBody = answersHead || status < 200 || status === 204 || status === 304;
    if (noBody) {
      out.push({ status, body: Buffer.alloc(0), stream: false });
      at = start;
      continue;
    }
    if (headers.get('transfer-encoding')?.toLowerCase() === 'chunked') {
      const parts: Buffer[] = [];
      for (;;) {
        const eol = data.indexOf('\r\n', start, 'latin1');
        if (eol < 0) {
          // an open event stream ends when the connection does; any other answer must be whole
          if (status < 400 && isStream(headers)) {
            out.push({ status, body: Buffer.concat(parts), stream: true });
            return out;
          }
          return 'a chunked answer cut short';
        }
        const size = Number.parseInt(data.toString('latin1', start, eol), 16);
        if (!Number.isFinite(size)) return 'a malformed chunk size in an answer';
        start = eol + 2;
        if (size === 0) {
          const end = data.indexOf('\r\n', start, 'latin1');
          if (end < 0) return 'a chunked answer without its last CRLF';
          start = end + 2;
          break;
        }
        parts.push(data.subarray(start, start + size));
        start += size + 2;
      }
      out.push({ status, body: Buffer.concat(parts), stream: false });
      at = start;
      continue;
    }
    const length = headers.get('content-length');
    if (length === undefined) {
      // delimited by the close
      out.push({ status, body: data.subarray(start), stream: isStream(headers) });
      break;
    }
    const n = Number(length);
    if (!Number.isInteger(n) || n < 0) return `content-length ${JSON.stringify(length)} in an answer`;
    if (data.length < start + n) return 'an answer shorter than its content-length';
    out.push({ status, body: data.subarray(start, start + n), stream: false });
    at = start + n;
  }
  return out;
}

/** Writes the bytes, half-closes, and reads until the server closes (or the deadline). */
export function sendRaw(base: string, c: RawCase): Promise<Verdict> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve) => {
    const socket = net.connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    let settled = false;
    const done = (v: Verdict) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(v);
    };
    const timer = setTimeout(() => {
      const so = Buffer.concat(chunks);
      const answers = parseAnswers(so, c.method === 'HEAD');
      // an event stream may stay open as long as it likes once its head is out
      if (typeof answers !== 'string' && answers.at(-1)?.stream) return done(null);
      done(`neither an answer nor a close within ${DEADLINE_MS} ms (${so.length} bytes so far)`);
    }, DEADLINE_MS);
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', () => {});
    socket.on('close', () => {
      const data = Buffer.concat(chunks);
      if (data.length === 0) return done(null); // a closed connection is an acceptable answer to garbage
      // an answer to HEAD has no body, unless the server did not take it for a HEAD (malformed)
      const asHead = c.method === 'HEAD' ? parseAnswers(data, true) : null;
      const withBody = parseAnswers(data, false);
      const answers = asHead !== null && typeof asHead !== 'string' ? asHead : withBody;
      if (typeof answers === 'string') return done(answers);
      // the HEAD's own answer (its first final one, after any 100 Continue) has no body to check
      const headAnswer = answers === asHead ? answers.find((a) => a.status >= 200) : undefined;
      for (const a of answers) {
        if (a.status < 400) continue;
        if (a === headAnswer) continue;
        const problem = envelopeProblem(a.status, a.body.toString('utf8'));
        if (problem) return done(problem);
      }
      done(null);
    });
    socket.once('connect', () => {
      socket.write(c.bytes);
      socket.end();
    });
  });
}

/** The case, readable: runs of one character shortened to `c×N`. */
export function describeCase(c: HttpCase | RawCase): string {
  const short = (text: string, max: number) =>
    text.replace(/(.)\1{15,}/gs, (run, ch: string) => `${ch}×${run.length}`).slice(0, max);
  if (c.kind === 'raw') return `raw bytes ${short(JSON.stringify(c.bytes.toString('latin1')), 1500)}`;
  const body =
    c.body === undefined
      ? 'no body'
      : `body ${Buffer.byteLength(c.body)} bytes ${short(JSON.stringify(String(c.body)), 300)}`;
  return `${c.method} ${short(c.path, 400)} headers ${short(JSON.stringify(c.headers), 2000)} ${body}`;
}
