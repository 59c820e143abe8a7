import { z } from 'zod';
import type { RequestPart } from './limits.ts';

/** Every error code either service may answer, with its HTTP status and default message. */
export const ERRORS = {
  VALIDATION_FAILED: { status: 422, message: 'The request is invalid.' },
  MALFORMED_JSON: { status: 400, message: 'The request body is not valid JSON.' },
  BAD_REQUEST: { status: 400, message: 'The request could not be understood.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'Send the request body as application/json.' },
  PAYLOAD_TOO_LARGE: { status: 413, message: 'The request body is too large.' },
  URI_TOO_LONG: { status: 414, message: 'The request URI is too long.' },
  METHOD_NOT_ALLOWED: { status: 405, message: 'This method is not allowed here.' },
  REQUEST_TIMEOUT: { status: 408, message: 'The request was not received in time.' },
  EXPECTATION_FAILED: { status: 417, message: 'Only "Expect: 100-continue" is supported.' },
  HEADERS_TOO_LARGE: { status: 431, message: 'The request headers are too large.' },
  NOT_FOUND: { status: 404, message: 'Not found.' },
  UNAUTHORIZED: { status: 401, message: 'Authentication is required.' },
  INVALID_CREDENTIALS: { status: 401, message: 'Username or password is wrong.' },
  INVALID_TOKEN: { status: 401, message: 'The token is invalid or expired.' },
  REFRESH_TOKEN_REUSED: {
    status: 401,
    message: 'This refresh token was already used; its session has been revoked.',
  },
  FORBIDDEN: { status: 403, message: 'Not allowed.' },
  CONFLICT: { status: 409, message: 'The resource already exists.' },
  RATE_LIMITED: { status: 429, message: 'Too many requests.' },
  INTERNAL: { status: 500, message: 'Something went wrong on our side.' },
  UPSTREAM_FAILED: { status: 502, message: 'An upstream service failed.' },
  SERVICE_UNAVAILABLE: { status: 503, message: 'The service is temporarily unavailable.' },
  NOT_READY: { status: 503, message: 'The service is not ready.' },
  OVERLOADED: { status: 503, message: 'The service is overloaded; retry later.' },
  UPSTREAM_TIMEOUT: { status: 504, message: 'An upstream service did not answer in time.' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERRORS;

const CLIENT_ERROR_BY_STATUS: Record<number, ErrorCode> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHORIZED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  408: 'REQUEST_TIMEOUT',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  414: 'URI_TOO_LONG',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  417: 'EXPECTATION_FAILED',
  422: 'VALIDATION_FAILED',
  429: 'RATE_LIMITED',
  431: 'HEADERS_TOO_LARGE',
};

/**
 * The code for a 4xx a framework raised on its own (body parser, router): both apps answer it
 * the same way. Anything unmapped is BAD_REQUEST.
 */
export function errorCodeForClientStatus(status: number): ErrorCode {
  return CLIENT_ERROR_BY_STATUS[status] ?? 'BAD_REQUEST';
}
export const errorCodes = Object.keys(ERRORS) as [ErrorCode, ...ErrorCode[]];

export const Issue = z.object({
  path: z.string().describe('Dotted path of the offending field, e.g. "email" or "page".'),
  message: z.string(),
});
export type Issue = z.infer<typeof Issue>;

export const ErrorEnvelope = z
  .object({
    error: z.object({
      status: z.number().int().min(400).max(599),
      code: z.enum(errorCodes),
      message: z.string(),
      issues: z.array(Issue).optional(),
      details: z.record(z.string(), z.unknown()).optional(),
    }),
  })
  .describe('The one error shape of every 4xx/5xx answer of both services.');
export type ErrorEnvelope = z.infer<typeof ErrorEnvelope>;

export interface ErrorOptions {
  message?: string;
  issues?: Issue[];
  details?: Record<string, unknown>;
}

/** Builds the envelope for a code: the one way both apps write an error body. */
export function errorBody(code: ErrorCode, options: ErrorOptions = {}): ErrorEnvelope {
  const { status, message } = ERRORS[code];
  const error: ErrorEnvelope['error'] = { status, code, message: options.message ?? message };
  if (options.issues) error.issues = options.issues;
  if (options.details) error.details = options.details;
  return { error };
}

const partNames: Record<RequestPart, string> = {
  params: 'path parameters',
  body: 'request body',
  query: 'query parameters',
};

/** Turns a zod failure on one part of the request into the VALIDATION_FAILED envelope. */
export function validationErrorBody(part: RequestPart, error: z.ZodError): ErrorEnvelope {
  return errorBody('VALIDATION_FAILED', {
    message: `Invalid ${partNames[part]}.`,
    issues: issuesFromZod(error),
  });
}

export function issuesFromZod(error: z.ZodError): Issue[] {
  return error.issues.map((issue) => ({
    path: issue.path.map(String).join('.') || '(root)',
    message: issue.message,
  }));
}

export interface ApiErrorOptions extends ErrorOptions {
  /** Response headers that belong to this answer (Retry-After and RateLimit with a 429, say). */
  headers?: Readonly<Record<string, string>>;
}

/**
 * A thrown error that carries an envelope; both apps' error handlers answer it as is, with its
 * headers.
 */
export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly body: ErrorEnvelope;
  readonly headers: Readonly<Record<string, string>>;
  constructor(code: ErrorCode, options: ApiErrorOptions = {}) {
    const { headers, ...bodyOptions } = options;
    const body = errorBody(code, bodyOptions);
    super(body.error.message);
    this.name = 'ApiError';
    this.code = code;
    this.status = body.error.status;
    this.body = body;
    this.headers = headers ?? {};
  }
}
