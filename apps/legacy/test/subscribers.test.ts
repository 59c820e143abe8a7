import { ApiError, HEADERS, SubscriberResponse } from '@pilot/contracts';
import { createMemoryContent } from '@pilot/content';
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

describe('POST /subscribers', () => {
  it('creates a subscriber (201, no-store) with the email lower-cased', async () => {
    const res = await call(
      `${app.url}/subscribers`,
      jsonPost({ email: 'New.Reader@Example.com', name: ' Reader ' }),
    );
    expect(res.status).toBe(201);
    const body = SubscriberResponse.parse(res.body);
    expect(body.data).toMatchObject({ email: 'new.reader@example.com', name: 'Reader' });
    expect(res.headers.get('cache-control')).toBe(HEADERS.privateCacheControl);
    expect(app.content.subscribers.map((s) => s.email)).toContain('new.reader@example.com');
  });

  it('answers 409 CONFLICT for a duplicate email, whatever its case', async () => {
    await call(`${app.url}/subscribers`, jsonPost({ email: 'dup@example.com' }));
    const res = await call(`${app.url}/subscribers`, jsonPost({ email: 'DUP@example.com' }));
    expectEnvelope(res, 409, 'CONFLICT');
  });

  it.each([
    [{ email: 'not-an-email' }, 'email'],
    [{}, 'email'],
    [{ email: 'a@b.co', admin: true }, '(root)'],
    [{ email: 'a@b.co', name: '' }, 'name'],
    [[], '(root)'],
  ])('answers 422 for %j', async (body, path) => {
    const res = await call(`${app.url}/subscribers`, jsonPost(body));
    const envelope = expectEnvelope(res, 422, 'VALIDATION_FAILED');
    expect(envelope.error.message).toBe('Invalid request body.');
    expect(envelope.error.issues?.[0]?.path).toBe(path);
  });

  it('answers 422 when there is no body at all', async () => {
    expectEnvelope(await call(`${app.url}/subscribers`, { method: 'POST' }), 422, 'VALIDATION_FAILED');
  });

  it('answers 415 for a form post and 400 for broken JSON', async () => {
    const form = await call(`${app.url}/subscribers`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'email=a%40b.co',
    });
    expectEnvelope(form, 415, 'UNSUPPORTED_MEDIA_TYPE');
    expectEnvelope(await call(`${app.url}/subscribers`, jsonPost('{"email":')), 400, 'MALFORMED_JSON');
  });

  it('answers the store’s 503 when Strapi is away', async () => {
    const content = createMemoryContent();
    content.createSubscriber = async () => {
      throw new ApiError('SERVICE_UNAVAILABLE');
    };
    const down = await startApp({ content });
    try {
      expectEnvelope(
        await call(`${down.url}/subscribers`, jsonPost({ email: 'a@b.co' })),
        503,
        'SERVICE_UNAVAILABLE',
      );
    } finally {
      await down.close();
    }
  });
});
