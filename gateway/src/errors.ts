import { type ServerResponse, STATUS_CODES } from 'node:http';

/** Errors with a stable `code` that callers (and tests) can switch on. */
export class GatewayError extends Error {
  readonly code: string;
  readonly status: number;
  constructor(code: string, status: number, message: string) {
    super(message);
    this.name = 'GatewayError';
    this.code = code;
    this.status = status;
  }
}

export interface TableIssue {
  /** Dotted field path, e.g. `routes[2].split`. */
  path: string;
  message: string;
  line?: number;
  column?: number;
}

/** A route table that could not be loaded: names the file, line and field of every problem. */
export class TableError extends GatewayError {
  readonly issues: TableIssue[];
  readonly file: string;
  constructor(file: string, issues: TableIssue[]) {
    const lines = issues.map((i) => {
      const where = i.line !== undefined ? `${file}:${i.line}:${i.column ?? 1}` : file;
      return `  ${where} ${i.path ? `${i.path}: ` : ''}${i.message}`;
    });
    super('TABLE_INVALID', 422, `invalid route table ${file}\n${lines.join('\n')}`);
    this.name = 'TableError';
    this.issues = issues;
    this.file = file;
  }
}

/** The error envelope both services use, so a client cannot tell a gateway error from an app error by shape. */
export function sendError(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  close = false,
  extra: Record<string, string> = {},
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = JSON.stringify({ error: { status, code, message } });
  const headers: Record<string, string | number> = {
    ...extra,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  };
  if (close) headers.connection = 'close';
  res.writeHead(status, headers);
  res.end(body);
}

/**
 * The same envelope written straight to a socket, for answers the HTTP server gives before a
 * request object exists (the parser refused the bytes); the connection closes after it.
 */
export function rawErrorResponse(status: number, code: string, message: string): string {
  const body = JSON.stringify({ error: { status, code, message } });
  return (
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
    'Content-Type: application/json; charset=utf-8\r\n' +
    'Cache-Control: no-store\r\n' +
    'Connection: close\r\n' +
    `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
  );
}
