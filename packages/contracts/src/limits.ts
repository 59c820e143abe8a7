/** Defaults and hard limits of the public API. Both apps and the gateway read them from here. */
export const LIMITS = {
  defaultPageSize: 25,
  maxPageSize: 100,
  maxPage: 10_000,
  maxSearchLength: 200,
  maxSlugLength: 200,
  /** JSON request bodies; larger → 413 PAYLOAD_TOO_LARGE. */
  bodyLimitBytes: 16 * 1024,
  /** Path + query; longer → 414 URI_TOO_LONG. */
  maxUrlLength: 2048,
  /** Node's --max-http-header-size default; larger → 431 HEADERS_TOO_LARGE (the gateway's code too). */
  maxHeaderBytes: 16 * 1024,
  /**
   * A request refused before its body was read (401, 413, 415…) keeps its connection: the rest
   * of the body is read and dropped, up to this many bytes. A body declared larger is answered
   * with `Connection: close` instead; one that keeps coming past it has its connection closed.
   */
  maxDrainBytes: 4 * 1024 * 1024,
  aggregateArticleCount: 5,
  accessTokenTtlSeconds: 15 * 60,
  refreshTokenTtlSeconds: 7 * 24 * 60 * 60,
  /** Webhook timestamp must be within this many seconds of now (signed relays). */
  webhookReplayWindowSeconds: 300,
  webhookBodyLimitBytes: 256 * 1024,
  /** SSE: events kept for Last-Event-ID resume, and the heartbeat period. */
  eventsBacklog: 256,
  eventsHeartbeatMs: 15_000,
} as const;

/** Headers both apps send the same way (the parity suite compares them). */
export const HEADERS = {
  requestId: 'x-request-id',
  contentType: 'application/json; charset=utf-8',
  /** Public, cacheable reads (articles). */
  publicReadCacheControl: 'public, max-age=30, stale-while-revalidate=60',
  /** Anything per-user (auth, /me) or a write. */
  privateCacheControl: 'no-store',
  webhookSecret: 'x-webhook-secret',
  webhookSignature: 'x-webhook-signature',
  webhookTimestamp: 'x-webhook-timestamp',
  /**
   * Set (to "1") only by the gateway on a mirrored request: answer exactly as usual, but write
   * nothing (no Strapi write, no token rotation, no event, no cache invalidation).
   */
  shadow: 'x-pilot-shadow',
  /** With HEADERS.shadow: when the gateway received the request (ms since the epoch). */
  shadowAt: 'x-pilot-shadow-at',
  /** A create runs at most once per key (POST /subscribers). */
  idempotencyKey: 'idempotency-key',
} as const;

type RequestHeaders = Readonly<Record<string, string | string[] | undefined>>;

/** The request was mirrored by the gateway (see HEADERS.shadow). */
export function isMirrored(headers: RequestHeaders): boolean {
  return headers[HEADERS.shadow] === '1';
}

/**
 * How a mirrored request is to be answered: as a dry run, with the time the gateway received it
 * (so the served backend's write of the same request, made after it, is told from older ones);
 * `{ dryRun: false }` for any other request.
 */
export function mirrorOf(headers: RequestHeaders): { dryRun: boolean; requestedAt?: number } {
  if (!isMirrored(headers)) return { dryRun: false };
  const at = headers[HEADERS.shadowAt];
  return typeof at === 'string' && /^\d{1,15}$/.test(at)
    ? { dryRun: true, requestedAt: Number(at) }
    : { dryRun: true };
}

/**
 * When a request is invalid in several places, only the first failing part is reported, in
 * this order (it is the order Fastify validates in, so both apps agree).
 */
export const VALIDATION_ORDER = ['params', 'body', 'query'] as const;
export type RequestPart = (typeof VALIDATION_ORDER)[number];
