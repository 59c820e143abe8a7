import { ApiError, LIMITS } from '@pilot/contracts';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';

/** Path + query longer than LIMITS.maxUrlLength → 414, before routing (also for unknown routes). */
export function urlLimit(req: Request, _res: Response, next: NextFunction): void {
  next(req.url.length > LIMITS.maxUrlLength ? new ApiError('URI_TOO_LONG') : undefined);
}

/**
 * A request that carries a body must say it is JSON. No body at all (no Transfer-Encoding, no
 * or a zero Content-Length, as fetch sends for an empty POST) is left to validation (422).
 */
function requireJson(req: Request, _res: Response, next: NextFunction): void {
  const length = req.headers['content-length'];
  const hasBody = req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
  next(hasBody && !req.is('application/json') ? new ApiError('UNSUPPORTED_MEDIA_TYPE') : undefined);
}

/**
 * A body declared larger than the limit is refused before a byte of it is read: body-parser
 * would first read all of it (however large) and only then answer 413. (Compressed bodies are
 * measured inflated, by body-parser.) The HTTP server drains or closes what is left.
 */
function refuseDeclaredTooLarge(req: Request, _res: Response, next: NextFunction): void {
  const encoding = req.headers['content-encoding']?.trim().toLowerCase();
  const identity = encoding === undefined || encoding === 'identity';
  next(
    identity && Number(req.headers['content-length']) > LIMITS.bodyLimitBytes
      ? new ApiError('PAYLOAD_TOO_LARGE')
      : undefined,
  );
}

const parseJson = express.json({ limit: LIMITS.bodyLimitBytes, strict: true });

/**
 * The JSON body of one route: 415 for another media type, 413 for a body declared too large,
 * then express.json with the contract's size limit (larger → 413) in strict mode (only an
 * object or array; anything else and broken JSON → 400 MALFORMED_JSON via the error handler).
 * Used per route, so an unknown route is a 404 whatever its body.
 */
export const jsonBody: RequestHandler = (req, res, next) => {
  requireJson(req, res, (error?: unknown) => {
    if (error) return next(error);
    refuseDeclaredTooLarge(req, res, (tooLarge?: unknown) =>
      tooLarge ? next(tooLarge) : parseJson(req, res, next),
    );
  });
};
