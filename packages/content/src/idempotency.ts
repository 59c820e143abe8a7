import { createHash } from 'node:crypto';
import { ApiError, type ErrorCode, type Subscriber } from '@pilot/contracts';

/**
 * Idempotency keys for creates (`Idempotency-Key` request header, as in the IETF
 * httpapi-idempotency-key draft): the first request with a key runs and its outcome is stored
 * for 24 h; a retry with the same key and the same body gets the same answer without running
 * again; the same key with another body is a 422; the same key while the first is still running
 * is a 409 (retry shortly).
 *
 * A create whose outcome is unknown (Strapi never answered) is stored as `unknown`: a retry
 * with the key then runs again in "adopt" mode, where an existing subscriber with that email is
 * the earlier attempt's write and is answered as created, not as a duplicate.
 *
 * Stores: Redis (shared by every instance of both services, `SET NX PX` claims) or, without
 * Redis, this process only (bounded to MEMORY_MAX_KEYS, oldest dropped first). Only the key's
 * SHA-256 is stored, scoped to the operation.
 */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
/** A claim whose holder died is released after this (longer than any create can take). */
export const PENDING_TTL_MS = 2 * 60 * 1000;
const MEMORY_MAX_KEYS = 10_000;
const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/;

export type StoredOutcome =
  | { ok: Subscriber }
  | { error: { code: ErrorCode; message: string; details?: Record<string, unknown> } };

export type IdempotencyRecord =
  | { state: 'pending'; fingerprint: string; at: number }
  | { state: 'unknown'; fingerprint: string; at: number }
  | { state: 'done'; fingerprint: string; at: number; outcome: StoredOutcome };

export interface IdempotencyStore {
  /** The record in place, without claiming (dry runs read, never claim). */
  peek(key: string): Promise<IdempotencyRecord | null>;
  /** Claims `key` for this request (a pending record); null when claimed, else the record in place. */
  claim(key: string, fingerprint: string): Promise<IdempotencyRecord | null>;
  /** Replaces the record: the outcome, or `unknown`, or a fresh claim over an `unknown` one. */
  settle(key: string, record: IdempotencyRecord): Promise<void>;
  /** Drops a claim whose request wrote nothing, so a retry simply runs again. */
  release(key: string): Promise<void>;
}

const ttlOf = (record: IdempotencyRecord) =>
  record.state === 'pending' ? PENDING_TTL_MS : IDEMPOTENCY_TTL_MS;

/** The header's value, checked: 1..255 visible ASCII characters; undefined when absent. */
export function parseIdempotencyKey(value: string | string[] | undefined): string | undefined {
  if (value === undefined) return undefined;
  const key = Array.isArray(value) ? value.join(',') : value;
  if (!KEY_PATTERN.test(key)) {
    throw new ApiError('VALIDATION_FAILED', {
      issues: [
        { path: 'idempotency-key', message: 'Idempotency-Key must be 1 to 255 visible ASCII characters.' },
      ],
    });
  }
  return key;
}

export function fingerprintOf(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex');
}

export function createMemoryIdempotencyStore(options: { now?: () => number } = {}): IdempotencyStore {
  const now = options.now ?? Date.now;
  const records = new Map<string, { record: IdempotencyRecord; expiresAt: number }>();
  const put = (key: string, record: IdempotencyRecord) => {
    records.delete(key);
    records.set(key, { record, expiresAt: now() + ttlOf(record) });
    while (records.size > MEMORY_MAX_KEYS) records.delete(records.keys().next().value as string);
  };
  return {
    async peek(key) {
      const found = records.get(key);
      return found && found.expiresAt > now() ? found.record : null;
    },
    async claim(key, fingerprint) {
      const found = records.get(key);
      if (found && found.expiresAt > now()) return found.record;
      put(key, { state: 'pending', fingerprint, at: now() });
      return null;
    },
    async settle(key, record) {
      put(key, record);
    },
    async release(key) {
      records.delete(key);
    },
  };
}

/** The commands used, as ioredis' `call` offers them (any client with `call` works). */
export interface RedisCaller {
  call(command: string, ...args: Array<string | number>): Promise<unknown>;
}

export function createRedisIdempotencyStore(redis: RedisCaller, prefix: string): IdempotencyStore {
  const keyOf = (key: string) => `${prefix}${createHash('sha256').update(key).digest('hex')}`;
  const unavailable = (error: unknown) =>
    new ApiError('SERVICE_UNAVAILABLE', {
      message: 'The idempotency store is unavailable; retry later with the same Idempotency-Key.',
      details: { cause: (error as Error).message },
    });
  return {
    async peek(key) {
      try {
        const raw = await redis.call('GET', keyOf(key));
        return typeof raw === 'string' ? (JSON.parse(raw) as IdempotencyRecord) : null;
      } catch (error) {
        throw unavailable(error);
      }
    },
    async claim(key, fingerprint) {
      const k = keyOf(key);
      const pending: IdempotencyRecord = { state: 'pending', fingerprint, at: Date.now() };
      try {
        const set = await redis.call('SET', k, JSON.stringify(pending), 'PX', PENDING_TTL_MS, 'NX');
        if (set === 'OK') return null;
        const raw = await redis.call('GET', k);
        // expired between the two calls: claim again
        if (typeof raw !== 'string') return this.claim(key, fingerprint);
        return JSON.parse(raw) as IdempotencyRecord;
      } catch (error) {
        throw unavailable(error);
      }
    },
    async settle(key, record) {
      try {
        await redis.call('SET', keyOf(key), JSON.stringify(record), 'PX', ttlOf(record));
      } catch (error) {
        throw unavailable(error);
      }
    },
    async release(key) {
      await redis.call('DEL', keyOf(key)).catch(() => undefined);
    },
  };
}

/** What a stored outcome answers (a replay). */
export function replay(outcome: StoredOutcome): Subscriber {
  if ('ok' in outcome) return outcome.ok;
  const { code, message, details } = outcome.error;
  throw new ApiError(code, { message, ...(details ? { details } : {}) });
}

/**
 * Runs `create` at most once per key: see the module comment. `create(adopt)` gets `adopt: true`
 * when an earlier attempt with this key ended with an unknown outcome.
 */
export async function createOnce(
  store: IdempotencyStore,
  key: string,
  fingerprint: string,
  create: (adopt: boolean) => Promise<Subscriber>,
): Promise<Subscriber> {
  const found = await store.claim(key, fingerprint);
  let adopt = false;
  if (found) {
    if (found.fingerprint !== fingerprint) {
      throw new ApiError('VALIDATION_FAILED', {
        message: 'This Idempotency-Key was already used with a different request body.',
        issues: [{ path: 'idempotency-key', message: 'was used with a different request body' }],
      });
    }
    if (found.state === 'pending') {
      throw new ApiError('CONFLICT', {
        message: 'A request with this Idempotency-Key is still in progress; retry shortly.',
        details: { reason: 'IDEMPOTENCY_KEY_IN_PROGRESS', retryAfterSeconds: 1 },
      });
    }
    if (found.state === 'done') return replay(found.outcome);
    adopt = true;
    await store.settle(key, { state: 'pending', fingerprint, at: Date.now() });
  }
  try {
    const subscriber = await create(adopt);
    // stored: a failure to remember it must not turn the answer into a failure
    await store
      .settle(key, { state: 'done', fingerprint, at: Date.now(), outcome: { ok: subscriber } })
      .catch(() => undefined);
    return subscriber;
  } catch (error) {
    if (error instanceof ApiError && error.body.error.details?.outcome === 'unknown') {
      await store.settle(key, { state: 'unknown', fingerprint, at: Date.now() }).catch(() => undefined);
    } else if (error instanceof ApiError && error.status < 500) {
      // a decided answer (a duplicate): the same key gets the same answer
      const { code, message, details } = error.body.error;
      await store
        .settle(key, {
          state: 'done',
          fingerprint,
          at: Date.now(),
          outcome: { error: { code: code as ErrorCode, message, ...(details ? { details } : {}) } },
        })
        .catch(() => undefined);
    } else {
      // nothing was written (Strapi refused or was unreachable before the write): run again on retry
      await store.release(key);
    }
    throw error;
  }
}
