import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { startTestServer, type TestServer } from '@pilot/test-kit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CmsInstance, startCms } from '../testing/index.ts';
import { api, type Json } from './helpers.ts';

type Delivery = TestServer['requests'][number] & { json: Json };

/** A webhook receiver whose deliveries can be awaited (no sleeps). */
async function startReceiver() {
  const waiters: Array<{ match: (d: Delivery) => boolean; resolve: (d: Delivery) => void }> = [];
  const deliveries: Delivery[] = [];
  const server = await startTestServer((req, res) => {
    const delivery = {
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      body: req.body,
      json: JSON.parse(req.body),
    };
    deliveries.push(delivery);
    for (const waiter of [...waiters]) {
      if (waiter.match(delivery)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(delivery);
      }
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"ok":true}');
  });
  return {
    server,
    deliveries,
    /** Resolves with the first delivery (past or future) that matches. */
    next(match: (d: Delivery) => boolean) {
      const seen = deliveries.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise<Delivery>((resolve) => waiters.push({ match, resolve }));
    },
  };
}

const SECRET = 'test-webhook-secret';
let dir: string;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let cms: CmsInstance;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pilot-cms-webhook-test-'));
  receiver = await startReceiver();
  cms = await startCms({
    seedArticles: 60,
    webhookUrl: `${receiver.server.url}/webhooks/strapi`,
    webhookSecret: SECRET,
    // A database file this test owns, so a second boot can reuse it.
    env: { DATABASE_FILENAME: join(dir, 'data.db') },
  });
});

afterAll(async () => {
  await cms?.stop();
  await receiver?.server.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('webhook to the services (real Strapi)', () => {
  it('fires with the shared-secret header when an article is updated over REST', async () => {
    const list = await api(cms, '/api/articles?pagination[pageSize]=1&sort=slug', { token: cms.readToken });
    const { documentId, slug } = list.body.data[0];
    const update = await api(cms, `/api/articles/${documentId}`, {
      method: 'PUT',
      token: cms.fullAccessToken,
      body: { data: { title: 'A New Title From The Webhook Test' } },
    });
    expect(update.status).toBe(200);

    const delivery = await receiver.next(
      (d) => d.json.event === 'entry.update' && d.json.entry?.documentId === documentId,
    );
    expect(delivery.method).toBe('POST');
    expect(delivery.url).toBe('/webhooks/strapi');
    expect(delivery.headers['x-webhook-secret']).toBe(SECRET);
    expect(delivery.headers['x-strapi-event']).toBe('entry.update');
    expect(delivery.headers['content-type']).toBe('application/json');
    expect(delivery.json).toMatchObject({
      event: 'entry.update',
      model: 'article',
      uid: 'api::article.article',
      entry: { documentId, slug, title: 'A New Title From The Webhook Test' },
    });
    expect(typeof delivery.json.createdAt).toBe('string');

    // The published version changed too: the next REST read shows the new title.
    const after = await api(cms, `/api/articles/${documentId}`, { token: cms.readToken });
    expect(after.body.data.title).toBe('A New Title From The Webhook Test');
  });

  it('fires entry.create for a new subscriber', async () => {
    const create = await api(cms, '/api/subscribers', {
      method: 'POST',
      token: cms.writeToken,
      body: { data: { email: 'hook@example.com' } },
    });
    expect(create.status).toBe(201);
    const delivery = await receiver.next(
      (d) => d.json.event === 'entry.create' && d.json.model === 'subscriber',
    );
    expect(delivery.json.entry).toMatchObject({
      email: 'hook@example.com',
      documentId: create.body.data.documentId,
    });
  });

  it('fires entry.unpublish and entry.delete', async () => {
    const list = await api(cms, '/api/articles?pagination[pageSize]=1&sort=slug:desc', {
      token: cms.readToken,
    });
    const { documentId } = list.body.data[0];
    const del = await api(cms, `/api/articles/${documentId}`, {
      method: 'DELETE',
      token: cms.fullAccessToken,
    });
    expect(del.status).toBe(204);
    const delivery = await receiver.next(
      (d) => d.json.event === 'entry.delete' && d.json.entry?.documentId === documentId,
    );
    expect(delivery.json).toMatchObject({ model: 'article', uid: 'api::article.article' });
  });

  it('a second boot on the same database keeps one webhook (updated to the new URL), skips the seed', async () => {
    await cms.stop();
    const second = await startReceiver();
    try {
      cms = await startCms({
        seedArticles: 60,
        webhookUrl: `${second.server.url}/webhooks/strapi`,
        webhookSecret: SECRET,
        env: { DATABASE_FILENAME: join(dir, 'data.db') },
      });
      expect(cms.logs()).toMatch(/seed: skipped, already seeded/);
      expect(cms.logs()).toMatch(/webhook: updated/);

      // Same content as before (59 left after the delete above), same tokens.
      const res = await api(cms, '/api/articles?pagination[pageSize]=1', { token: cms.readToken });
      expect(res.body.meta.pagination.total).toBe(59);

      const before = receiver.deliveries.length;
      const create = await api(cms, '/api/subscribers', {
        method: 'POST',
        token: cms.writeToken,
        body: { data: { email: 'second-boot@example.com' } },
      });
      expect(create.status).toBe(201);
      await second.next(
        (d) => d.json.event === 'entry.create' && d.json.entry?.email === 'second-boot@example.com',
      );
      expect(receiver.deliveries.length).toBe(before);

      const db = new DatabaseSync(join(dir, 'data.db'), { readOnly: true });
      try {
        const rows = db.prepare('SELECT name, url FROM strapi_webhooks').all();
        expect(rows).toEqual([
          { name: 'pilot-modern-cache-invalidation', url: `${second.server.url}/webhooks/strapi` },
        ]);
      } finally {
        db.close();
      }
    } finally {
      await second.server.close();
    }
  }, 180_000);
});
