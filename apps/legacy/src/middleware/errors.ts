import {
  ApiError,
  type ErrorCode,
  type ErrorEnvelope,
  errorBody,
  errorCodeForClientStatus,
} from '@pilot/contracts';
import type { NextFunction, Request, Response } from 'express';
import { sendError } from '../lib/send.ts';

/** body-parser's error types → the contract's codes. */
const BODY_PARSER_TYPES: Record<string, ErrorCode> = {
  'entity.parse.failed': 'MALFORMED_JSON',
  'entity.verify.failed': 'MALFORMED_JSON',
  'entity.too.large': 'PAYLOAD_TOO_LARGE',
  'charset.unsupported': 'UNSUPPORTED_MEDIA_TYPE',
  'encoding.unsupported': 'UNSUPPORTED_MEDIA_TYPE',
  'request.aborted': 'BAD_REQUEST',
  'request.size.invalid': 'BAD_REQUEST',
};

/** Maps anything thrown or passed to next() into the envelope; unknown errors are INTERNAL. */
export function envelopeFor(error: unknown): ErrorEnvelope {
  if (error instanceof ApiError) return error.body;
  const e = error as { type?: unknown; status?: unknown; statusCode?: unknown } | null;
  const byType = typeof e?.type === 'string' ? BODY_PARSER_TYPES[e.type] : undefined;
  if (byType) return errorBody(byType);
  const status = typeof e?.status === 'number' ? e.status : e?.statusCode;
  // a 4xx from Express itself (e.g. a bad percent-encoding in a path parameter)
  if (typeof status === 'number' && status >= 400 && status < 500)
    return errorBody(errorCodeForClientStatus(status));
  return errorBody('INTERNAL');
}

/** Unknown routes (and methods): the 404 envelope. */
export function notFound(_req: Request, res: Response): void {
  sendError(res, errorBody('NOT_FOUND'));
}

/**
 * No route answers OPTIONS (there is no CORS here): without this, each Express router would
 * answer its own automatic `200 GET, HEAD`, unlike everything else in the API.
 */
export function noAutomaticOptions(req: Request, res: Response, next: NextFunction): void {
  if (req.method === 'OPTIONS') notFound(req, res);
  else next();
}

/**
 * The one error handler. 4xx pass through with their contract message; 5xx are logged with
 * the request and answered with the generic envelope (an ApiError's 5xx, e.g. 503 from the
 * content store, keeps its code and message). Never a stack, never Express's HTML page.
 */
export function errorHandler(error: unknown, req: Request, res: Response, next: NextFunction): void {
  if (res.headersSent) {
    next(error);
    return;
  }
  const body = envelopeFor(error);
  if (error instanceof ApiError) res.set(error.headers);
  if (body.error.status >= 500) {
    if (error instanceof ApiError) req.log.warn({ err: error }, 'request failed upstream');
    // pino-http's completion line (level error) carries it, with the request and the stack
    else res.err = error instanceof Error ? error : new Error(String(error));
  }
  sendError(res, body);
}
