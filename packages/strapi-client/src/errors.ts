/**
 * Typed errors. Every error thrown by the client is a `StrapiError` with a stable `code`
 * that callers can switch on. Messages never contain the API token or request headers.
 */

export interface StrapiErrorIssue {
  path: string;
  message: string;
}

export interface StrapiErrorInit {
  status?: number;
  /** Strapi's `error.name` (e.g. `ValidationError`) when the envelope had one. */
  strapiName?: string;
  /** Strapi's `error.details`, verbatim. */
  details?: unknown;
  method?: string;
  /** Path without the query string (e.g. `/api/articles/abc`). */
  path?: string;
  cause?: unknown;
}

export class StrapiError extends Error {
  /** Stable machine-readable code, e.g. `STRAPI_NOT_FOUND`. */
  readonly code: string;
  readonly status: number | undefined;
  readonly strapiName: string | undefined;
  readonly details: unknown;
  readonly method: string | undefined;
  readonly path: string | undefined;

  constructor(code: string, message: string, init: StrapiErrorInit = {}) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = init.status;
    this.strapiName = init.strapiName;
    this.details = init.details;
    this.method = init.method;
    this.path = init.path;
  }

  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      status: this.status,
      strapiName: this.strapiName,
      details: this.details,
      method: this.method,
      path: this.path,
    };
  }
}

/** 404, or a findOne of a documentId that does not exist. */
export class StrapiNotFoundError extends StrapiError {
  constructor(message: string, init: StrapiErrorInit = {}) {
    super('STRAPI_NOT_FOUND', message, { status: 404, ...init });
  }
}

/** 400 `ValidationError` from Strapi (including unique-constraint violations). */
export class StrapiValidationError extends StrapiError {
  /** Strapi's `details.errors` flattened to `{ path, message }`. */
  readonly issues: StrapiErrorIssue[];
  constructor(message: string, init: StrapiErrorInit = {}) {
    super('STRAPI_VALIDATION', message, { status: 400, ...init });
    this.issues = extractIssues(init.details);
  }
  /** True when Strapi rejected the write because a unique attribute already exists. */
  get isUniqueViolation(): boolean {
    return this.issues.some((issue) => /unique/i.test(issue.message)) || /unique/i.test(this.message);
  }
}

/** Any other 400 (`BadRequestError`, `ApplicationError`, ...). */
export class StrapiBadRequestError extends StrapiError {
  constructor(message: string, init: StrapiErrorInit = {}) {
    super('STRAPI_BAD_REQUEST', message, { status: 400, ...init });
  }
}

export class StrapiUnauthorizedError extends StrapiError {
  constructor(message: string, init: StrapiErrorInit = {}) {
    super('STRAPI_UNAUTHORIZED', message, { status: 401, ...init });
  }
}

export class StrapiForbiddenError extends StrapiError {
  constructor(message: string, init: StrapiErrorInit = {}) {
    super('STRAPI_FORBIDDEN', message, { status: 403, ...init });
  }
}

/** 429. `retryAfterMs` comes from the Retry-After header when present. */
export class StrapiRateLimitedError extends StrapiError {
  readonly retryAfterMs: number | undefined;
  constructor(message: string, init: StrapiErrorInit & { retryAfterMs?: number } = {}) {
    super('STRAPI_RATE_LIMITED', message, { status: 429, ...init });
    this.retryAfterMs = init.retryAfterMs;
  }
}

/** The request did not complete within `timeoutMs`. */
export class StrapiTimeoutError extends StrapiError {
  readonly timeoutMs: number;
  constructor(message: string, init: StrapiErrorInit & { timeoutMs: number }) {
    super('STRAPI_TIMEOUT', message, init);
    this.timeoutMs = init.timeoutMs;
  }
}

/**
 * Strapi could not be reached or answered 5xx. Subclasses narrow the reason; apps can map
 * `instanceof StrapiUnavailableError` to a 503.
 */
export class StrapiUnavailableError extends StrapiError {
  readonly retryAfterMs: number | undefined;
  constructor(
    message: string,
    init: StrapiErrorInit & { retryAfterMs?: number } = {},
    code = 'STRAPI_UNAVAILABLE',
  ) {
    super(code, message, init);
    this.retryAfterMs = init.retryAfterMs;
  }
}

/** The circuit breaker is open: the request was not sent. */
export class StrapiCircuitOpenError extends StrapiUnavailableError {
  constructor(message: string, init: StrapiErrorInit = {}) {
    super(message, init, 'STRAPI_CIRCUIT_OPEN');
  }
}

/** The outbound concurrency cap and its queue are full: the request was not sent. */
export class StrapiOverloadedError extends StrapiUnavailableError {
  constructor(message: string, init: StrapiErrorInit = {}) {
    super(message, init, 'STRAPI_OVERLOADED');
  }
}

/** Strapi answered, but the body did not match the expected envelope or the caller's schema. */
export class StrapiBadResponseError extends StrapiError {
  readonly issues: StrapiErrorIssue[];
  constructor(message: string, init: StrapiErrorInit & { issues?: StrapiErrorIssue[] } = {}) {
    super('STRAPI_BAD_RESPONSE', message, init);
    this.issues = init.issues ?? [];
  }
}

/** Any other non-2xx status (e.g. 405, 409, 413). */
export class StrapiHttpError extends StrapiError {
  constructor(message: string, init: StrapiErrorInit = {}) {
    super('STRAPI_HTTP_ERROR', message, init);
  }
}

/** `createStrapiClient` was given invalid options. */
export class StrapiConfigError extends StrapiError {
  readonly issues: StrapiErrorIssue[];
  constructor(message: string, issues: StrapiErrorIssue[]) {
    super('STRAPI_INVALID_OPTIONS', message);
    this.issues = issues;
  }
}

/** The client was closed. */
export class StrapiClientClosedError extends StrapiError {
  constructor() {
    super('STRAPI_CLIENT_CLOSED', 'The Strapi client is closed');
  }
}

export const STRAPI_ERROR_CODES = [
  'STRAPI_NOT_FOUND',
  'STRAPI_VALIDATION',
  'STRAPI_BAD_REQUEST',
  'STRAPI_UNAUTHORIZED',
  'STRAPI_FORBIDDEN',
  'STRAPI_RATE_LIMITED',
  'STRAPI_TIMEOUT',
  'STRAPI_UNAVAILABLE',
  'STRAPI_CIRCUIT_OPEN',
  'STRAPI_OVERLOADED',
  'STRAPI_BAD_RESPONSE',
  'STRAPI_HTTP_ERROR',
  'STRAPI_INVALID_OPTIONS',
  'STRAPI_CLIENT_CLOSED',
] as const;
export type StrapiErrorCode = (typeof STRAPI_ERROR_CODES)[number];

export function isStrapiError(error: unknown): error is StrapiError {
  return error instanceof StrapiError;
}

function extractIssues(details: unknown): StrapiErrorIssue[] {
  if (!details || typeof details !== 'object') return [];
  const errors = (details as { errors?: unknown }).errors;
  if (!Array.isArray(errors)) return [];
  return errors.map((item) => {
    const entry = (item ?? {}) as { path?: unknown; message?: unknown };
    const path = Array.isArray(entry.path) ? entry.path.join('.') : String(entry.path ?? '');
    return { path, message: String(entry.message ?? '') };
  });
}

/** Parses a Retry-After header (delta-seconds or HTTP date) into milliseconds. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/**
 * Turns a non-2xx response into the matching typed error. `body` is the parsed JSON body
 * (or undefined); Strapi 5's envelope is `{ data: null, error: { status, name, message, details } }`.
 */
export function errorFromResponse(
  status: number,
  body: unknown,
  context: { method: string; path: string; retryAfter: string | null },
): StrapiError {
  const envelope =
    body && typeof body === 'object' && 'error' in body
      ? ((body as { error?: unknown }).error as Record<string, unknown> | null)
      : null;
  const strapiName = typeof envelope?.name === 'string' ? envelope.name : undefined;
  const rawMessage = typeof envelope?.message === 'string' ? envelope.message : undefined;
  const details = envelope?.details;
  const message = `Strapi ${context.method} ${context.path} failed with ${status}${rawMessage ? `: ${rawMessage}` : ''}`;
  const init: StrapiErrorInit = { status, strapiName, details, method: context.method, path: context.path };
  const retryAfterMs = parseRetryAfter(context.retryAfter);
  if (status === 404) return new StrapiNotFoundError(message, init);
  if (status === 400) {
    return strapiName === 'ValidationError' || strapiName === 'YupValidationError'
      ? new StrapiValidationError(message, init)
      : new StrapiBadRequestError(message, init);
  }
  if (status === 401) return new StrapiUnauthorizedError(message, init);
  if (status === 403) return new StrapiForbiddenError(message, init);
  if (status === 429) return new StrapiRateLimitedError(message, { ...init, retryAfterMs });
  if (status >= 500) return new StrapiUnavailableError(message, { ...init, retryAfterMs });
  return new StrapiHttpError(message, init);
}
