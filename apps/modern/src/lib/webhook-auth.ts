import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { ApiError, HEADERS, LIMITS } from '@pilot/contracts';

export interface WebhookAuthOptions {
  /** Shared secret Strapi sends in `x-webhook-secret` (configured on the webhook in Strapi's admin). */
  secret?: string | undefined;
  /** Key for `x-webhook-signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">` (signing relays). */
  hmacSecret?: string | undefined;
  replayWindowSeconds?: number;
  /** Clock in ms (tests). */
  now?: () => number;
}

export type WebhookHeaders = Record<string, string | string[] | undefined>;

const SIGNATURE = /^(?:sha256=)?([0-9a-fA-F]{64})$/;
const TIMESTAMP = /^\d{1,12}$/;
const REJECTED = 'The webhook sender could not be verified.';

const sha256 = (value: string | Buffer) => createHash('sha256').update(value).digest();

/** Constant-time equality of two strings of any length: compares their equal-length SHA-256 digests. */
export function safeEqual(a: string | Buffer, b: string | Buffer): boolean {
  return timingSafeEqual(sha256(a), sha256(b));
}

export function signWebhook(
  hmacSecret: string,
  timestamp: number | string,
  rawBody: string | Buffer,
): string {
  return `sha256=${createHmac('sha256', hmacSecret).update(`${timestamp}.`).update(rawBody).digest('hex')}`;
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

export interface WebhookVerifier {
  /** Throws ApiError (401 UNAUTHORIZED, 400 BAD_REQUEST) unless the sender is verified; returns the method used. */
  verify(headers: WebhookHeaders, rawBody: Buffer): 'secret' | 'signature' | 'secret+signature';
  /** Signatures remembered for replay protection (tests, metrics). */
  rememberedSignatures(): number;
}

/**
 * Sender verification for POST /webhooks/strapi. With nothing configured it refuses every
 * request (fail closed). Every credential presented that is configured must verify, and at
 * least one must be presented; a signature is accepted once within the replay window.
 */
export function createWebhookVerifier(options: WebhookAuthOptions): WebhookVerifier {
  const windowSeconds = options.replayWindowSeconds ?? LIMITS.webhookReplayWindowSeconds;
  const now = options.now ?? Date.now;
  /** signature hex → epoch ms after which its timestamp is out of the window anyway. */
  const seen = new Map<string, number>();

  function forgetExpired(nowMs: number) {
    for (const [signature, expiresAt] of seen) if (expiresAt <= nowMs) seen.delete(signature);
  }

  function verifySignature(hmacSecret: string, header: string, headers: WebhookHeaders, rawBody: Buffer) {
    const match = SIGNATURE.exec(header.trim());
    if (!match?.[1])
      throw new ApiError('BAD_REQUEST', { message: `Malformed ${HEADERS.webhookSignature} header.` });
    const timestamp = single(headers[HEADERS.webhookTimestamp])?.trim();
    if (!timestamp || !TIMESTAMP.test(timestamp)) {
      throw new ApiError('BAD_REQUEST', {
        message: `A signed webhook needs ${HEADERS.webhookTimestamp} (Unix seconds).`,
      });
    }
    const nowMs = now();
    const ageSeconds = Math.abs(nowMs / 1000 - Number(timestamp));
    if (ageSeconds > windowSeconds) throw new ApiError('UNAUTHORIZED', { message: REJECTED });
    const given = Buffer.from(match[1], 'hex');
    const expected = createHmac('sha256', hmacSecret).update(`${timestamp}.`).update(rawBody).digest();
    if (!timingSafeEqual(sha256(given), sha256(expected)))
      throw new ApiError('UNAUTHORIZED', { message: REJECTED });
    forgetExpired(nowMs);
    const key = match[1].toLowerCase();
    if (seen.has(key))
      throw new ApiError('UNAUTHORIZED', { message: 'This webhook delivery was already received.' });
    seen.set(key, (Number(timestamp) + windowSeconds) * 1000 + 1000);
  }

  return {
    verify(headers, rawBody) {
      const { secret, hmacSecret } = options;
      if (!secret && !hmacSecret) throw new ApiError('UNAUTHORIZED', { message: REJECTED });
      const givenSecret = single(headers[HEADERS.webhookSecret]);
      const givenSignature = single(headers[HEADERS.webhookSignature]);
      let secretOk = false;
      let signatureOk = false;
      if (secret && givenSecret !== undefined) {
        if (!safeEqual(givenSecret, secret)) throw new ApiError('UNAUTHORIZED', { message: REJECTED });
        secretOk = true;
      }
      if (hmacSecret && givenSignature !== undefined) {
        verifySignature(hmacSecret, givenSignature, headers, rawBody);
        signatureOk = true;
      }
      if (secretOk && signatureOk) return 'secret+signature';
      if (secretOk) return 'secret';
      if (signatureOk) return 'signature';
      throw new ApiError('UNAUTHORIZED', { message: REJECTED });
    },
    rememberedSignatures: () => seen.size,
  };
}
