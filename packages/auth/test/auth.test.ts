import { ApiError } from '@pilot/contracts';
import { type TestRedis, useTestRedis } from '@pilot/test-kit';
import { base64url, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuthService, createAuthService, createMemoryRefreshStore } from '../src/index.ts';

const SECRET = 'test-secret-test-secret-test-secret-0123';
const users = [
  { id: 'user-ann', username: 'ann', password: 'ann-password', name: 'Ann' },
  { id: 'user-bob', username: 'bob', password: 'bob-password', name: 'Bob' },
];

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ApiError) return error.code;
    throw error;
  }
  return 'resolved';
}

let redis: TestRedis;
beforeAll(async () => {
  redis = await useTestRedis('auth');
});
afterAll(async () => {
  await redis.cleanup();
});

const backends: Array<[string, () => AuthService]> = [
  ['memory store', () => createAuthService({ users, jwtSecret: SECRET, issuer: 'test' })],
  [
    'redis store',
    () =>
      createAuthService({
        users,
        jwtSecret: SECRET,
        issuer: 'test',
        redis: redis.client,
        prefix: redis.prefix,
      }),
  ],
];

describe.each(backends)('AuthService with %s', (_name, make) => {
  let auth: AuthService;
  beforeAll(() => {
    auth = make();
  });
  afterAll(async () => {
    await auth.close();
  });

  it('logs in, and the access token verifies to the user', async () => {
    const pair = await auth.login('ann', 'ann-password');
    expect(pair).toMatchObject({ tokenType: 'Bearer', expiresIn: 900 });
    expect(await auth.verify(pair.accessToken)).toEqual({ id: 'user-ann', username: 'ann', name: 'Ann' });
  });

  it('refuses a wrong password and an unknown user alike', async () => {
    expect(await codeOf(auth.login('ann', 'wrong'))).toBe('INVALID_CREDENTIALS');
    expect(await codeOf(auth.login('nobody', 'ann-password'))).toBe('INVALID_CREDENTIALS');
    expect(await codeOf(auth.login('ann', ''))).toBe('INVALID_CREDENTIALS');
  });

  it('rotates the refresh token on every refresh', async () => {
    const first = await auth.login('bob', 'bob-password');
    const second = await auth.refresh(first.refreshToken);
    expect(second.refreshToken).not.toBe(first.refreshToken);
    expect(await auth.verify(second.accessToken)).toMatchObject({ id: 'user-bob' });
    const third = await auth.refresh(second.refreshToken);
    expect(third.refreshToken).not.toBe(second.refreshToken);
  });

  it('reusing a rotated token revokes the whole family', async () => {
    const first = await auth.login('ann', 'ann-password');
    const second = await auth.refresh(first.refreshToken);
    expect(await codeOf(auth.refresh(first.refreshToken))).toBe('REFRESH_TOKEN_REUSED');
    // The legitimate holder's newer token is dead too…
    expect(await codeOf(auth.refresh(second.refreshToken))).toBe('INVALID_TOKEN');
    // …but another login (another family) is not affected.
    const other = await auth.login('ann', 'ann-password');
    await expect(auth.refresh(other.refreshToken)).resolves.toMatchObject({ tokenType: 'Bearer' });
  });

  it('lets exactly one of two concurrent refreshes with the same token win', async () => {
    const first = await auth.login('ann', 'ann-password');
    const codes = await Promise.all([
      codeOf(auth.refresh(first.refreshToken)),
      codeOf(auth.refresh(first.refreshToken)),
    ]);
    expect(codes.sort()).toEqual(['REFRESH_TOKEN_REUSED', 'resolved']);
  });

  it.each([
    ['empty', ''],
    ['garbage', 'not-a-token'],
    ['well-formed but unknown', `${'a'.repeat(43)}.${'b'.repeat(43)}`],
    ['an access token', 'eyJhbGciOiJIUzI1NiJ9.e30.sig'],
  ])('refuses a %s refresh token', async (_label, token) => {
    expect(await codeOf(auth.refresh(token))).toBe('INVALID_TOKEN');
  });

  it('a dry-run login checks the password and starts no family', async () => {
    expect(await codeOf(auth.login('ann', 'wrong', { dryRun: true }))).toBe('INVALID_CREDENTIALS');
    const dry = await auth.login('ann', 'ann-password', { dryRun: true });
    expect(dry).toMatchObject({ tokenType: 'Bearer', expiresIn: 900 });
    expect(await codeOf(auth.verify(dry.accessToken))).toBe('INVALID_TOKEN');
    expect(await codeOf(auth.refresh(dry.refreshToken))).toBe('INVALID_TOKEN');
  });

  it('a dry-run refresh answers like a rotation and changes nothing', async () => {
    const first = await auth.login('bob', 'bob-password');
    const dry = await auth.refresh(first.refreshToken, { dryRun: true });
    expect(dry).toMatchObject({ tokenType: 'Bearer', expiresIn: 900 });
    // the shape of a real pair, but neither token works: a dry run mints no session
    expect(dry.accessToken.split('.')).toHaveLength(3);
    expect(await codeOf(auth.verify(dry.accessToken))).toBe('INVALID_TOKEN');
    expect(await codeOf(auth.refresh(dry.refreshToken))).toBe('INVALID_TOKEN');
    // the family is as it was: the real token still rotates, twice in a row
    const second = await auth.refresh(first.refreshToken);
    await expect(auth.refresh(second.refreshToken)).resolves.toMatchObject({ tokenType: 'Bearer' });
  });

  it('a dry run right after the real rotation answers as the rotation did, and revokes nothing', async () => {
    const first = await auth.login('ann', 'ann-password');
    const requestedAt = Date.now();
    const second = await auth.refresh(first.refreshToken);
    // the mirror of the same request arrives after the served backend rotated the token
    await expect(auth.refresh(first.refreshToken, { dryRun: true, requestedAt })).resolves.toMatchObject({
      tokenType: 'Bearer',
    });
    await expect(auth.refresh(second.refreshToken)).resolves.toMatchObject({ tokenType: 'Bearer' });
  });

  it('a dry run of a real reuse (rotated before the request) answers REFRESH_TOKEN_REUSED, revoking nothing', async () => {
    const first = await auth.login('ann', 'ann-password');
    const second = await auth.refresh(first.refreshToken);
    const requestedAt = Date.now() + 1_000;
    expect(await codeOf(auth.refresh(first.refreshToken, { dryRun: true, requestedAt }))).toBe(
      'REFRESH_TOKEN_REUSED',
    );
    expect(await codeOf(auth.refresh(first.refreshToken, { dryRun: true }))).toBe('REFRESH_TOKEN_REUSED');
    await expect(auth.refresh(second.refreshToken)).resolves.toMatchObject({ tokenType: 'Bearer' });
  });

  it('a dry run validates like the real thing (garbage, unknown)', async () => {
    expect(await codeOf(auth.refresh('not-a-token', { dryRun: true }))).toBe('INVALID_TOKEN');
    expect(await codeOf(auth.refresh(`${'a'.repeat(43)}.${'b'.repeat(43)}`, { dryRun: true }))).toBe(
      'INVALID_TOKEN',
    );
  });

  it('a token from another family is not accepted under a swapped family id', async () => {
    const a = await auth.login('ann', 'ann-password');
    const b = await auth.login('bob', 'bob-password');
    const [, secretA] = a.refreshToken.split('.');
    const [familyB] = b.refreshToken.split('.');
    expect(await codeOf(auth.refresh(`${familyB}.${secretA}`))).toBe('INVALID_TOKEN');
  });
});

describe('access token verification', () => {
  const auth = createAuthService({ users, jwtSecret: SECRET, issuer: 'test' });
  const key = new TextEncoder().encode(SECRET);

  it.each([
    ['garbage', async () => 'garbage'],
    ['empty', async () => ''],
    [
      'forged with another secret',
      async () =>
        new SignJWT({})
          .setProtectedHeader({ alg: 'HS256' })
          .setSubject('user-ann')
          .setIssuer('test')
          .setIssuedAt()
          .setExpirationTime('5m')
          .sign(new TextEncoder().encode('another-secret-another-secret-12345')),
    ],
    [
      'expired',
      async () =>
        new SignJWT({})
          .setProtectedHeader({ alg: 'HS256' })
          .setSubject('user-ann')
          .setIssuer('test')
          .setIssuedAt(Math.floor(Date.now() / 1000) - 3600)
          .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
          .sign(key),
    ],
    [
      'from another issuer',
      async () =>
        new SignJWT({})
          .setProtectedHeader({ alg: 'HS256' })
          .setSubject('user-ann')
          .setIssuer('elsewhere')
          .setIssuedAt()
          .setExpirationTime('5m')
          .sign(key),
    ],
    [
      'for an unknown user',
      async () =>
        new SignJWT({})
          .setProtectedHeader({ alg: 'HS256' })
          .setSubject('user-mallory')
          .setIssuer('test')
          .setIssuedAt()
          .setExpirationTime('5m')
          .sign(key),
    ],
    [
      'unsigned (alg none)',
      async () => {
        const header = base64url.encode(JSON.stringify({ alg: 'none', typ: 'JWT' }));
        const now = Math.floor(Date.now() / 1000);
        const payload = base64url.encode(
          JSON.stringify({ sub: 'user-ann', iss: 'test', iat: now, exp: now + 300 }),
        );
        return `${header}.${payload}.`;
      },
    ],
  ])('refuses a %s token', async (_label, make) => {
    expect(await codeOf(auth.verify(await make()))).toBe('INVALID_TOKEN');
  });
});

describe('memory refresh store', () => {
  it('expires tokens after their TTL', async () => {
    let now = 1_000_000;
    const auth = createAuthService({
      users,
      jwtSecret: SECRET,
      issuer: 'test',
      refreshTtlSeconds: 60,
      now: () => now,
    });
    const pair = await auth.login('ann', 'ann-password');
    now += 61_000;
    expect(await codeOf(auth.refresh(pair.refreshToken))).toBe('INVALID_TOKEN');
  });

  it('rotate is atomic per token', async () => {
    const store = createMemoryRefreshStore();
    await store.issue('fam', 'h1', 'u', 60);
    expect(await store.rotate('fam', 'h1', 'h2', 60)).toEqual({ status: 'ok', userId: 'u' });
    expect(await store.rotate('fam', 'h1', 'h3', 60)).toEqual({ status: 'reused', userId: 'u' });
    expect(await store.rotate('fam', 'h2', 'h4', 60)).toEqual({ status: 'revoked', userId: 'u' });
  });
});

describe('redis refresh store', () => {
  it('keeps only hashes of tokens and expires keys', async () => {
    const auth = createAuthService({
      users,
      jwtSecret: SECRET,
      issuer: 'test',
      redis: redis.client,
      prefix: `${redis.prefix}ttl:`,
    });
    const pair = await auth.login('ann', 'ann-password');
    const keys = await redis.client.keys(`${redis.prefix}ttl:*`);
    expect(keys).toHaveLength(2);
    for (const k of keys) {
      expect(k).not.toContain(pair.refreshToken.split('.')[1]);
      const ttl = await redis.client.ttl(k);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(7 * 24 * 3600);
    }
  });

  it('answers SERVICE_UNAVAILABLE when Redis is unreachable', async () => {
    const { Redis } = await import('ioredis');
    const dead = new Redis('redis://127.0.0.1:1', {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      retryStrategy: () => null,
    });
    dead.on('error', () => {});
    const auth = createAuthService({ users, jwtSecret: SECRET, issuer: 'test', redis: dead });
    expect(await codeOf(auth.login('ann', 'ann-password'))).toBe('SERVICE_UNAVAILABLE');
    dead.disconnect();
  });
});

it('refuses a short secret and an empty user list up front', () => {
  expect(() => createAuthService({ users, jwtSecret: 'short', issuer: 'x' })).toThrow(/32/);
  expect(() => createAuthService({ users: [], jwtSecret: SECRET, issuer: 'x' })).toThrow(/users/);
});
