import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { ApiError, HEADERS, LIMITS } from '@pilot/contracts';
import { createMemoryReplayGuard, type ReplayGuard } from './replay-guard.ts';

export interface WebhookAuthOptions {
  /** Shared secret Strapi sends in `x-webhook-secret` (configured on the webhook in Strapi's admin). */
  secret?: string | undefined;
  /** Key for `x-webhook-signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">` (signing relays). */
  hmacSecret?: string | undefined;
  replayWindowSeconds?: number;
  /** Clock in ms (tests). */
  now?: () => number;
  /** Where seen signatures are remembered (default: this process; Redis to cover every instance). */
  replayGuard?: ReplayGuard;
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
  /**
   * Rejects with ApiError (401 UNAUTHORIZED, 400 BAD_REQUEST) unless the sender is verified;
   * resolves with the method used. A verified signature is claimed in the replay guard last,
   * so a request refused for another reason does not use it up. `dryRun` (a mirrored request):
   * the same checks, but the signature is neither claimed nor looked up (a mirror must not use
   * up the delivery the served request claims).
   */
  verify(
    headers: WebhookHeaders,
    rawBody: Buffer,
    options?: { dryRun?: boolean },
  ): Promise<'secret' | 'signature' | 'secret+signature'>;
  /**
   * What can be checked before the body is read: throws the same ApiError verify() would
   * unless a configured credential is presented (the secret, which must match, or a
   * well-formed signature inside the replay window). An anonymous sender is refused without
   * its body ever being read.
   */
  precheck(headers: WebhookHeaders): void;
}

/**
 * Sender verification for POST /webhooks/strapi. With nothing configured it refuses every
 * request (fail closed). Every credential presented that is configured must verify, and at
 * least one must be presented; a signature is accepted once within the replay window.
 */
export function createWebhookVerifier(options: WebhookAuthOptions): WebhookVerifier {
  const windowSeconds = options.replayWindowSeconds ?? LIMITS.webhookReplayWindowSeconds;
  const now = options.now ?? Date.now;
  const replayGuard = options.replayGuard ?? createMemoryReplayGuard(now);

  /** The signature headers, checked for form and for the replay window (no body needed). */
  function signatureHeaders(header: string, headers: WebhookHeaders) {
    const match = SIGNATURE.exec(header.trim());
    if (!match?.[1])
      throw new ApiError('BAD_REQUEST', { message: `Malformed ${HEADERS.webhookSignature} header.` });
    const timestamp = single(headers[HEADERS.webhookTimestamp])?.trim();
    if (!timestamp || !TIMESTAMP.test(timestamp)) {
      throw new ApiError('BAD_REQUEST', {
        message: `A signed webhook needs ${HEADERS.webhookTimestamp} (Unix seconds).`,
      });
    }
    const nowSeconds = now() / 1000;
    if (Math.abs(nowSeconds - Number(timestamp)) > windowSeconds) {
      throw new ApiError('UNAUTHORIZED', { message: REJECTED });
    }
    return { hex: match[1], timestamp, nowSeconds };
  }

  /** Checks a signature; returns what to claim in the replay guard (key, seconds to remember). */
  function verifySignature(hmacSecret: string, header: string, headers: WebhookHeaders, rawBody: Buffer) {
    const { hex, timestamp, nowSeconds } = signatureHeaders(header, headers);
    const given = Buffer.from(hex, 'hex');
    const expected = createHmac('sha256', hmacSecret).update(`${timestamp}.`).update(rawBody).digest();
    if (!timingSafeEqual(sha256(given), sha256(expected))) {
      throw new ApiError('UNAUTHORIZED', { message: REJECTED });
    }
    // remembered until its timestamp leaves the window (after that it is refused anyway)
    return { key: hex.toLowerCase(), ttlSeconds: Number(timestamp) + windowSeconds - nowSeconds + 1 };
  }

  return {
    precheck(headers) {
      const { secret, hmacSecret } = options;
      const givenSecret = single(headers[HEADERS.webhookSecret]);
      const givenSignature = single(headers[HEADERS.webhookSignature]);
      if (secret && givenSecret !== undefined) {
        if (!safeEqual(givenSecret, secret)) throw new ApiError('UNAUTHORIZED', { message: REJECTED });
        return;
      }
      if (hmacSecret && givenSignature !== undefined) {
        signatureHeaders(givenSignature, headers);
        return;
      }
      throw new ApiError('UNAUTHORIZED', { message: REJECTED });
    },

    async verify(headers, rawBody, verifyOptions = {}) {
      const { secret, hmacSecret } = options;
      if (!secret && !hmacSecret) throw new ApiError('UNAUTHORIZED', { message: REJECTED });
      const givenSecret = single(headers[HEADERS.webhookSecret]);
      const givenSignature = single(headers[HEADERS.webhookSignature]);
      let secretOk = false;
      let claim: { key: string; ttlSeconds: number } | undefined;
      if (secret && givenSecret !== undefined) {
        if (!safeEqual(givenSecret, secret)) throw new ApiError('UNAUTHORIZED', { message: REJECTED });
        secretOk = true;
      }
      if (hmacSecret && givenSignature !== undefined) {
        claim = verifySignature(hmacSecret, givenSignature, headers, rawBody);
      }
      if (!secretOk && !claim) throw new ApiError('UNAUTHORIZED', { message: REJECTED });
      if (claim && !verifyOptions.dryRun) {
        let first: boolean;
        try {
          first = await replayGuard.claim(claim.key, claim.ttlSeconds);
        } catch {
          throw new ApiError('SERVICE_UNAVAILABLE', {
            message: 'Replay protection is unavailable; retry later.',
          });
        }
        if (!first)
          throw new ApiError('UNAUTHORIZED', { message: 'This webhook delivery was already received.' });
      }
      return secretOk && claim ? 'secret+signature' : claim ? 'signature' : 'secret';
    },
  };
}
