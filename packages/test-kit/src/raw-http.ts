import { connect, type Socket } from 'node:net';

/** One HTTP/1.x response as it came off the wire. */
export interface RawResponse {
  status: number;
  /** Lower-cased names; a repeated header keeps its last value. */
  headers: Record<string, string>;
  body: Buffer;
  text: string;
}

/**
 * A raw TCP connection to an HTTP server, for what no HTTP client sends: malformed requests,
 * several requests on one keep-alive connection, a body the server refuses half-way. Bytes go
 * out exactly as given; answers are parsed as they arrive (Content-Length, chunked, or until
 * close; 1xx interim answers are answers of their own).
 */
export interface RawConnection {
  send(bytes: string | Buffer): Promise<void>;
  /** The next complete answer; `head` for an answer to HEAD (no body). Rejects on timeout. */
  next(options?: { head?: boolean; timeoutMs?: number }): Promise<RawResponse>;
  /** How the server ended the connection: 'end' (FIN) or 'reset' (or any socket error). */
  readonly closed: Promise<'end' | 'reset'>;
  /** True once the connection is gone. */
  readonly isClosed: boolean;
  /** Half-close: nothing more will be sent. */
  end(): void;
  destroy(): void;
}

const HEAD_END = Buffer.from('\r\n\r\n');

interface Parsed {
  response: RawResponse;
  used: number;
}

function parseChunked(buffer: Buffer, from: number): { body: Buffer; end: number } | undefined {
  const parts: Buffer[] = [];
  let at = from;
  for (;;) {
    const lineEnd = buffer.indexOf('\r\n', at, 'latin1');
    if (lineEnd < 0) return undefined;
    const size = Number.parseInt(buffer.toString('latin1', at, lineEnd).split(';')[0] ?? '', 16);
    if (Number.isNaN(size)) throw new Error('malformed chunk size in the answer');
    at = lineEnd + 2;
    if (size === 0) {
      const trailerEnd = buffer.indexOf('\r\n', at, 'latin1');
      if (trailerEnd < 0) return undefined;
      return { body: Buffer.concat(parts), end: trailerEnd + 2 };
    }
    if (buffer.length < at + size + 2) return undefined;
    parts.push(buffer.subarray(at, at + size));
    at += size + 2;
  }
}

/** Parses one answer at the start of `buffer`, or undefined when it is not complete yet. */
function parseOne(buffer: Buffer, head: boolean, ended: boolean): Parsed | undefined {
  const headEnd = buffer.indexOf(HEAD_END);
  if (headEnd < 0) return undefined;
  const lines = buffer.toString('latin1', 0, headEnd).split('\r\n');
  const statusLine = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/.exec(lines[0] ?? '');
  if (!statusLine) throw new Error(`not an HTTP/1.x status line: ${JSON.stringify(lines[0])}`);
  const status = Number(statusLine[1]);
  const headers: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error(`malformed header line in the answer: ${JSON.stringify(line)}`);
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const start = headEnd + HEAD_END.length;
  const done = (body: Buffer, end: number): Parsed => ({
    response: { status, headers, body, text: body.toString('utf8') },
    used: end,
  });
  if (head || (status >= 100 && status < 200) || status === 204 || status === 304)
    return done(Buffer.alloc(0), start);
  if (headers['transfer-encoding']?.toLowerCase().includes('chunked')) {
    const chunked = parseChunked(buffer, start);
    return chunked ? done(chunked.body, chunked.end) : undefined;
  }
  if (headers['content-length'] !== undefined) {
    const length = Number(headers['content-length']);
    if (buffer.length < start + length) return undefined;
    return done(buffer.subarray(start, start + length), start + length);
  }
  return ended ? done(buffer.subarray(start), buffer.length) : undefined;
}

export function rawConnection(url: string): Promise<RawConnection> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(Number(port), hostname);
    let buffer = Buffer.alloc(0);
    let ended = false;
    let isClosed = false;
    let wake: (() => void) | undefined;
    let resolveClosed: (how: 'end' | 'reset') => void = () => {};
    const closed = new Promise<'end' | 'reset'>((r) => {
      resolveClosed = r;
    });
    let how: 'end' | 'reset' = 'end';
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      wake?.();
    });
    socket.on('end', () => {
      ended = true;
      wake?.();
    });
    socket.on('error', () => {
      how = 'reset';
    });
    socket.on('close', () => {
      ended = true;
      isClosed = true;
      resolveClosed(how);
      wake?.();
    });
    socket.once('connect', () => {
      socket.off('error', reject);
      resolve({
        send: (bytes) =>
          new Promise<void>((done) => {
            if (socket.destroyed || !socket.writable) return done();
            socket.write(bytes, () => done());
          }),
        async next({ head = false, timeoutMs = 5_000 } = {}) {
          const deadline = Date.now() + timeoutMs;
          for (;;) {
            const parsed = parseOne(buffer, head, ended);
            if (parsed) {
              buffer = buffer.subarray(parsed.used);
              return parsed.response;
            }
            if (ended)
              throw new Error(`connection closed without a (complete) answer (${buffer.length} bytes)`);
            const left = deadline - Date.now();
            if (left <= 0) throw new Error(`no answer within ${timeoutMs} ms`);
            await new Promise<void>((wakeUp) => {
              const timer = setTimeout(wakeUp, left);
              wake = () => {
                clearTimeout(timer);
                wakeUp();
              };
            });
            wake = undefined;
          }
        },
        closed,
        get isClosed() {
          return isClosed;
        },
        end: () => socket.end(),
        destroy: () => socket.destroy(),
      });
    });
    socket.once('error', reject);
  });
}

/**
 * Sends `bytes` on a fresh connection, half-closes, and collects every answer until the server
 * closes (or `timeoutMs`). For requests that must get exactly one answer and then a closed
 * connection, or none at all.
 */
export async function rawExchange(
  url: string,
  bytes: string | Buffer,
  options: { head?: boolean; timeoutMs?: number } = {},
): Promise<{ responses: RawResponse[]; closed: 'end' | 'reset' | 'open' }> {
  const timeoutMs = options.timeoutMs ?? 5_000;
  const connection = await rawConnection(url);
  await connection.send(bytes);
  connection.end();
  const responses: RawResponse[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = deadline - Date.now();
    if (left <= 0) break;
    try {
      responses.push(await connection.next({ head: options.head ?? false, timeoutMs: left }));
    } catch {
      break; // closed (or timed out) with no further complete answer
    }
  }
  const closed = await Promise.race([
    connection.closed,
    new Promise<'open'>((resolve) => setTimeout(() => resolve('open'), Math.max(0, deadline - Date.now()))),
  ]);
  connection.destroy();
  return { responses, closed };
}
