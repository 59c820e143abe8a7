import { HEADERS, MeResponse, TokenPair } from '@pilot/contracts';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, closeTestRedis, expectEnvelope, jsonPost, startApp, type TestApp } from './helpers.ts';

let app: TestApp;
beforeAll(async () => {
  app = await startApp();
});
afterAll(async () => {
  await app.close();
  await closeTestRedis();
});

async function login(username = 'demo', password = 'demo-password'): Promise<TokenPair> {
  const res = await call(`${app.url}/auth/login`, jsonPost({ username, password }));
  expect(res.status).toBe(200);
  return TokenPair.parse(res.body);
}

const refresh = (refreshToken: string) => call(`${app.url}/auth/refresh`, jsonPost({ refreshToken }));
const me = (authorization?: string) =>
  call(`${app.url}/me`, authorization ? { headers: { authorization } } : {});

describe('POST /auth/login', () => {
  it('answers a token pair, never cacheable', async () => {
    const res = await call(
      `${app.url}/auth/login`,
      jsonPost({ username: 'demo', password: 'demo-password' }),
    );
    expect(res.status).toBe(200);
    expect(TokenPair.parse(res.body)).toMatchObject({ tokenType: 'Bearer', expiresIn: 900 });
    expect(res.headers.get('cache-control')).toBe(HEADERS.privateCacheControl);
  });

  it('answers 401 INVALID_CREDENTIALS for a wrong password or unknown user', async () => {
    expectEnvelope(
      await call(`${app.url}/auth/login`, jsonPost({ username: 'demo', password: 'nope' })),
      401,
      'INVALID_CREDENTIALS',
    );
    expectEnvelope(
      await call(`${app.url}/auth/login`, jsonPost({ username: 'ghost', password: 'x' })),
      401,
      'INVALID_CREDENTIALS',
    );
  });

  it('answers 422 for a missing password and 415 for a non-JSON body', async () => {
    expectEnvelope(
      await call(`${app.url}/auth/login`, jsonPost({ username: 'demo' })),
      422,
      'VALIDATION_FAILED',
    );
    const text = await call(`${app.url}/auth/login`, { method: 'POST', body: 'username=demo' });
    expectEnvelope(text, 415, 'UNSUPPORTED_MEDIA_TYPE');
  });
});

describe('POST /auth/refresh', () => {
  it('rotates the refresh token; the new access token works', async () => {
    const first = await login();
    const res = await refresh(first.refreshToken);
    expect(res.status).toBe(200);
    const second = TokenPair.parse(res.body);
    expect(second.refreshToken).not.toBe(first.refreshToken);
    expect((await me(`Bearer ${second.accessToken}`)).status).toBe(200);
  });

  it('a reused refresh token revokes the whole family', async () => {
    const first = await login('ann', 'ann-password');
    const second = TokenPair.parse((await refresh(first.refreshToken)).body);
    const reuse = await refresh(first.refreshToken);
    expectEnvelope(reuse, 401, 'REFRESH_TOKEN_REUSED');
    expect(reuse.headers.get('cache-control')).toBe('no-store');
    // the thief's replay also killed the legitimate newest token
    expectEnvelope(await refresh(second.refreshToken), 401, 'INVALID_TOKEN');
    // another login is unaffected
    const other = await login('ann', 'ann-password');
    expect((await refresh(other.refreshToken)).status).toBe(200);
  });

  it('answers 401 INVALID_TOKEN for an unknown token and 422 for none', async () => {
    expectEnvelope(await refresh(`${'a'.repeat(43)}.${'b'.repeat(43)}`), 401, 'INVALID_TOKEN');
    expectEnvelope(await refresh('garbage'), 401, 'INVALID_TOKEN');
    expectEnvelope(await call(`${app.url}/auth/refresh`, jsonPost({})), 422, 'VALIDATION_FAILED');
  });
});

describe('GET /me', () => {
  it('answers the user behind the access token', async () => {
    const pair = await login();
    const res = await me(`Bearer ${pair.accessToken}`);
    expect(res.status).toBe(200);
    expect(MeResponse.parse(res.body)).toEqual({
      data: { id: 'user-demo', username: 'demo', name: 'Demo User' },
    });
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect((await me(`bearer   ${pair.accessToken}`)).status).toBe(200);
  });

  it('answers 401 UNAUTHORIZED without a bearer token', async () => {
    expectEnvelope(await me(), 401, 'UNAUTHORIZED');
    expectEnvelope(await me('Basic ZGVtbzpkZW1vLXBhc3N3b3Jk'), 401, 'UNAUTHORIZED');
    expectEnvelope(await me('Bearer'), 401, 'UNAUTHORIZED');
  });

  it('answers 401 INVALID_TOKEN for forged, expired and refresh tokens', async () => {
    const key = new TextEncoder().encode(app.config.JWT_SECRET);
    const now = Math.floor(Date.now() / 1000);
    const expired = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('user-demo')
      .setIssuer(app.config.JWT_ISSUER)
      .setIssuedAt(now - 3600)
      .setExpirationTime(now - 60)
      .sign(key);
    const forged = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('user-demo')
      .setIssuer(app.config.JWT_ISSUER)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode('x'.repeat(40)));
    const pair = await login();
    for (const token of [expired, forged, pair.refreshToken, 'a.b.c', `${pair.accessToken}x`]) {
      expectEnvelope(await me(`Bearer ${token}`), 401, 'INVALID_TOKEN');
    }
  });
});
