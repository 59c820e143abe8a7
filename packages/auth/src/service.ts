import { createHash, randomBytes } from 'node:crypto';
import { ApiError, LIMITS, type Me, type TokenPair } from '@pilot/contracts';
import type { Redis } from 'ioredis';
import { jwtVerify, SignJWT } from 'jose';
import { hashPassword, type PasswordHash, verifyPassword } from './passwords.ts';
import { createRedisRefreshStore } from './redis-store.ts';
import { createMemoryRefreshStore, type RefreshStore } from './refresh-store.ts';
import type { AuthService, AuthUser } from './types.ts';

export interface AuthServiceOptions {
  users: readonly AuthUser[];
  /** HS256 key; at least 32 characters. */
  jwtSecret: string;
  issuer: string;
  /** Default LIMITS.accessTokenTtlSeconds (15 min). */
  accessTtlSeconds?: number;
  /** Default LIMITS.refreshTokenTtlSeconds (7 days). */
  refreshTtlSeconds?: number;
  /** Refresh tokens go to Redis when given (shared by every instance), else to memory. */
  redis?: Redis | undefined;
  /** Redis key prefix, default `pilot:auth:`. */
  prefix?: string;
  /** Clock in ms for the in-memory store (tests). */
  now?: () => number;
  /** Overrides the refresh token store (tests, other backends). */
  store?: RefreshStore;
  /** Tolerated clock difference between the gateway and the service in a dry run (ms, default 10). */
  clockSkewMs?: number;
}

const ALGORITHM = 'HS256';
/** `<familyId>.<secret>`, both 32 random bytes in base64url. */
const REFRESH_TOKEN = /^([A-Za-z0-9_-]{43})\.([A-Za-z0-9_-]{43})$/;

const randomId = () => randomBytes(32).toString('base64url');
const sha256 = (value: string) => createHash('sha256').update(value).digest('hex');

/** Maps a store failure (Redis down) to 503 instead of letting it surface as a 500. */
async function storeCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw new ApiError('SERVICE_UNAVAILABLE', {
      message: 'The session store is unavailable; retry later.',
      details: { cause: (error as Error).message },
    });
  }
}

export function createAuthService(options: AuthServiceOptions): AuthService {
  if (options.jwtSecret.length < 32) throw new TypeError('jwtSecret must be at least 32 characters');
  if (options.users.length === 0) throw new TypeError('users must not be empty');
  const key = new TextEncoder().encode(options.jwtSecret);
  const accessTtl = options.accessTtlSeconds ?? LIMITS.accessTokenTtlSeconds;
  const refreshTtl = options.refreshTtlSeconds ?? LIMITS.refreshTokenTtlSeconds;
  const store =
    options.store ??
    (options.redis
      ? createRedisRefreshStore(options.redis, options.prefix)
      : createMemoryRefreshStore(options.now ? { now: options.now } : {}));

  const clockSkewMs = options.clockSkewMs ?? 10;
  const dryRunKey = new Uint8Array(randomBytes(32));

  const byUsername = new Map(options.users.map((u) => [u.username, u]));
  const byId = new Map(options.users.map((u) => [u.id, u]));
  // Hash the demo users' passwords once, at creation: login compares against hashes only.
  const hashes: Promise<Map<string, PasswordHash>> = Promise.all(
    options.users.map(async (u) => [u.username, await hashPassword(u.password)] as const),
  ).then((entries) => new Map(entries));
  // Unknown usernames are checked against this too, so they take as long as a wrong password.
  const decoy = hashPassword(randomId());
  hashes.catch(() => {});
  decoy.catch(() => {});

  async function accessToken(user: AuthUser, signingKey: Uint8Array): Promise<string> {
    return new SignJWT({ username: user.username, name: user.name })
      .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
      .setSubject(user.id)
      .setIssuer(options.issuer)
      .setIssuedAt()
      .setExpirationTime(`${accessTtl}s`)
      .setJti(randomBytes(12).toString('base64url'))
      .sign(signingKey);
  }

  async function pair(user: AuthUser, refreshToken: string, signingKey = key): Promise<TokenPair> {
    return {
      accessToken: await accessToken(user, signingKey),
      refreshToken,
      tokenType: 'Bearer',
      expiresIn: accessTtl,
    };
  }

  return {
    async login(username, password, loginOptions = {}) {
      const stored = (await hashes).get(username);
      const ok = await verifyPassword(password, stored ?? (await decoy));
      const user = byUsername.get(username);
      if (!ok || !stored || !user) throw new ApiError('INVALID_CREDENTIALS');
      const familyId = randomId();
      const refreshToken = `${familyId}.${randomId()}`;
      // a mirrored login: the same check and the shape of the answer; no family is started
      if (loginOptions.dryRun) return pair(user, refreshToken, dryRunKey);
      await storeCall(() => store.issue(familyId, sha256(refreshToken), user.id, refreshTtl));
      return pair(user, refreshToken);
    },

    async refresh(refreshToken, refreshOptions = {}) {
      const match = REFRESH_TOKEN.exec(refreshToken);
      if (!match) throw new ApiError('INVALID_TOKEN');
      const familyId = match[1] as string;
      const next = `${familyId}.${randomId()}`;
      if (refreshOptions.dryRun) {
        const found = await storeCall(() => store.inspect(familyId, sha256(refreshToken)));
        // rotated after the gateway received this request: by the served backend, for this request
        const at = refreshOptions.requestedAt;
        const live =
          found.status === 'ok' ||
          (found.status === 'used' && at !== undefined && found.usedAt >= at - clockSkewMs);
        if (found.status === 'used' && !live) throw new ApiError('REFRESH_TOKEN_REUSED');
        if (!live) throw new ApiError('INVALID_TOKEN');
        const user = byId.get(found.userId);
        if (!user) throw new ApiError('INVALID_TOKEN');
        // `next` is never stored and the access token is signed with a key nobody holds: the
        // answer has the shape of a rotation, and a dry run can never mint a usable session
        return pair(user, next, dryRunKey);
      }
      const result = await storeCall(() =>
        store.rotate(familyId, sha256(refreshToken), sha256(next), refreshTtl),
      );
      if (result.status === 'reused') throw new ApiError('REFRESH_TOKEN_REUSED');
      if (result.status !== 'ok') throw new ApiError('INVALID_TOKEN');
      const user = byId.get(result.userId);
      if (!user) throw new ApiError('INVALID_TOKEN');
      return pair(user, next);
    },

    async verify(token): Promise<Me> {
      try {
        const { payload } = await jwtVerify(token, key, {
          algorithms: [ALGORITHM],
          issuer: options.issuer,
          requiredClaims: ['sub', 'exp', 'iat'],
        });
        const user = payload.sub ? byId.get(payload.sub) : undefined;
        if (!user) throw new ApiError('INVALID_TOKEN');
        return { id: user.id, username: user.username, name: user.name };
      } catch {
        // Bad signature, wrong alg, expired, malformed, unknown user: all the same 401.
        throw new ApiError('INVALID_TOKEN');
      }
    },

    async close() {
      await store.close();
    },
  };
}
