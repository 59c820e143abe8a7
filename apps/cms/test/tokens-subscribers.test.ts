import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CmsInstance, LOCAL_READ_TOKEN, LOCAL_WRITE_TOKEN, startCms } from '../testing/index.ts';
import { api } from './helpers.ts';

// Real Strapi, small seed (60 articles): this file is about tokens and subscribers.
let cms: CmsInstance;

beforeAll(async () => {
  cms = await startCms({ seedArticles: 60 });
});

afterAll(async () => {
  await cms?.stop();
});

describe('API tokens (real Strapi)', () => {
  it('uses the known local tokens by default', () => {
    expect(cms.readToken).toBe(LOCAL_READ_TOKEN);
    expect(cms.writeToken).toBe(LOCAL_WRITE_TOKEN);
  });

  it('a smaller seed is honoured', async () => {
    const res = await api(cms, '/api/articles?pagination[pageSize]=1', { token: cms.readToken });
    expect(res.body.meta.pagination.total).toBe(60);
  });

  it('rejects requests without a token: 401 in Strapi’s envelope', async () => {
    const res = await api(cms, '/api/articles');
    expect(res.status).toBe(401);
    expect(res.body).toEqual({
      data: null,
      error: {
        status: 401,
        name: 'UnauthorizedError',
        message: 'Missing or invalid credentials',
        details: {},
      },
    });
  });

  it('rejects an unknown token with 401', async () => {
    const res = await api(cms, '/api/articles', { token: 'not-a-token' });
    expect(res.status).toBe(401);
  });

  it('read token: reads articles and authors, cannot touch subscribers', async () => {
    expect((await api(cms, '/api/authors', { token: cms.readToken })).status).toBe(200);
    const create = await api(cms, '/api/subscribers', {
      method: 'POST',
      token: cms.readToken,
      body: { data: { email: 'reader@example.com' } },
    });
    expect(create.status).toBe(403);
    expect(create.body).toEqual({
      data: null,
      error: { status: 403, name: 'ForbiddenError', message: 'Forbidden', details: {} },
    });
    expect((await api(cms, '/api/subscribers', { token: cms.readToken })).status).toBe(403);
    const list = await api(cms, '/api/articles?pagination[pageSize]=1', { token: cms.readToken });
    const { documentId } = list.body.data[0];
    const update = await api(cms, `/api/articles/${documentId}`, {
      method: 'PUT',
      token: cms.readToken,
      body: { data: { title: 'Nope' } },
    });
    expect(update.status).toBe(403);
  });

  it('write token: creates a subscriber (201) and can find it, but cannot read articles', async () => {
    const create = await api(cms, '/api/subscribers', {
      method: 'POST',
      token: cms.writeToken,
      body: { data: { email: 'first@example.com', name: 'First', source: 'test' } },
    });
    expect(create.status).toBe(201);
    expect(create.body.data).toMatchObject({ email: 'first@example.com', name: 'First', source: 'test' });
    expect(create.body.data.documentId).toMatch(/^[a-z0-9]{24}$/);
    expect(create.body.meta).toEqual({});

    const found = await api(cms, '/api/subscribers?filters[email][$eq]=first@example.com', {
      token: cms.writeToken,
    });
    expect(found.status).toBe(200);
    expect(found.body.data).toHaveLength(1);

    expect((await api(cms, '/api/articles', { token: cms.writeToken })).status).toBe(403);
  });

  it('duplicate subscriber email → 400 ValidationError (exact envelope)', async () => {
    const body = { data: { email: 'dup@example.com' } };
    const first = await api(cms, '/api/subscribers', { method: 'POST', token: cms.writeToken, body });
    expect(first.status).toBe(201);
    const second = await api(cms, '/api/subscribers', { method: 'POST', token: cms.writeToken, body });
    expect(second.status).toBe(400);
    expect(second.body).toEqual({
      data: null,
      error: {
        status: 400,
        name: 'ValidationError',
        message: 'This attribute must be unique',
        details: {
          errors: [
            {
              path: ['email'],
              message: 'This attribute must be unique',
              name: 'ValidationError',
              value: 'dup@example.com',
            },
          ],
        },
      },
    });
  });

  it('invalid or missing email → 400 ValidationError', async () => {
    const invalid = await api(cms, '/api/subscribers', {
      method: 'POST',
      token: cms.writeToken,
      body: { data: { email: 'not-an-email' } },
    });
    expect(invalid.status).toBe(400);
    expect(invalid.body.error).toMatchObject({ status: 400, name: 'ValidationError' });
    expect(invalid.body.error.details.errors[0].path).toEqual(['email']);

    const missing = await api(cms, '/api/subscribers', {
      method: 'POST',
      token: cms.writeToken,
      body: { data: {} },
    });
    expect(missing.status).toBe(400);
    expect(missing.body.error.details.errors[0]).toMatchObject({ path: ['email'], name: 'ValidationError' });
  });

  it('full-access token (test helper only) can edit articles', async () => {
    const list = await api(cms, '/api/articles?pagination[pageSize]=1', { token: cms.readToken });
    const { documentId } = list.body.data[0];
    const update = await api(cms, `/api/articles/${documentId}`, {
      method: 'PUT',
      token: cms.fullAccessToken,
      body: { data: { summary: 'Edited by the full-access token.' } },
    });
    expect(update.status).toBe(200);
    expect(update.body.data).toMatchObject({ documentId, summary: 'Edited by the full-access token.' });
  });
});
