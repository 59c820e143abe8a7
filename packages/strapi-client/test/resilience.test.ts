import { afterEach, describe, expect, it, vi } from 'vitest';
import type { BreakerState, UpstreamEvent } from '../src/index.ts';
import { StrapiTimeoutError, StrapiUnavailableError } from '../src/index.ts';
import { type FakeStrapi, startFakeStrapi } from '../src/testing/index.ts';
import { articleSchema, clientFor, closeClients, manualClock, nextEvent, seedArticles } from './helpers.ts';

let fake: FakeStrapi | undefined;

afterEach(async () => {
  await closeClients();
  await fake?.close();
  fake = undefined;
});

describe('Strapi down', () => {
  it('a cached key is served stale within grace (fake Strapi: stopped)', async () => {
    fake = await startFakeStrapi({ collections: { articles: seedArticles(2) } });
    const clock = manualClock();
    // stale-if-error path: no SWR, so the stale value is only used because Strapi fails.
    const strapi = clientFor(fake, {
      now: clock.now,
      cache: { ttlMs: 1_000, graceMs: 60_000, staleWhileRevalidate: false },
    });
    const articles = strapi.collection('articles');
    const fresh = await articles.find(undefined, articleSchema);
    await fake.stop();
    clock.advance(5_000);
    const staleEvent = nextEvent(strapi, 'cache');
    const stale = await articles.find(undefined, articleSchema);
    expect(stale).toEqual(fresh);
    expect(await staleEvent).toMatchObject({ result: 'stale', reason: 'upstream-error' });
  });

  it('with stale-while-revalidate (default) the stale value answers and the failed refresh is swallowed (fake Strapi: stopped)', async () => {
    fake = await startFakeStrapi({ collections: { articles: seedArticles(1) } });
    const clock = manualClock();
    const strapi = clientFor(fake, { now: clock.now, cache: { ttlMs: 1_000, graceMs: 60_000 } });
    const articles = strapi.collection('articles');
    const fresh = await articles.find(undefined, articleSchema);
    await fake.stop();
    clock.advance(5_000);
    const refreshFailed = nextEvent(strapi, 'upstream', (event) => !event.ok);
    expect(await articles.find(undefined, articleSchema)).toEqual(fresh);
    expect(await refreshFailed).toMatchObject({ errorCode: 'STRAPI_UNAVAILABLE' });
    expect(await articles.find(undefined, articleSchema)).toEqual(fresh);
  });

  it('an uncached key fails fast with the typed error (fake Strapi: stopped)', async () => {
    fake = await startFakeStrapi({ collections: { articles: seedArticles(1) } });
    const strapi = clientFor(fake, {
      timeoutMs: 5_000,
      retry: { maxAttempts: 2, initialDelayMs: 10, maxDelayMs: 50 },
    });
    await fake.stop();
    const started = performance.now();
    const error = await strapi
      .collection('articles')
      .findOne('doc1', undefined, articleSchema)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StrapiUnavailableError);
    expect(error).toMatchObject({ code: 'STRAPI_UNAVAILABLE', method: 'GET', path: '/api/articles/doc1' });
    // Fast: connection refused, two short retries; far below the 5 s timeout.
    expect(performance.now() - started).toBeLessThan(2_500);
  });

  it('after N failures the breaker opens (no upstream calls), half-opens later and closes on success (fake Strapi: 503)', async () => {
    fake = await startFakeStrapi({ collections: { articles: seedArticles(1) } });
    const strapi = clientFor(fake, { breaker: { threshold: 3, halfOpenAfterMs: 200 } });
    const states: BreakerState[] = [];
    strapi.on('breaker', (event) => states.push(event.state));
    fake.setFault({ kind: 'status', status: 503 });
    const read = () => strapi.collection('articles').find(undefined, articleSchema, { cache: false });
    for (let i = 0; i < 3; i++) await expect(read()).rejects.toMatchObject({ code: 'STRAPI_UNAVAILABLE' });
    expect(states).toEqual(['open']);
    expect(strapi.status().breaker).toBe('open');

    const callsWhenOpened = fake.apiCalls;
    for (let i = 0; i < 5; i++) await expect(read()).rejects.toMatchObject({ code: 'STRAPI_CIRCUIT_OPEN' });
    expect(fake.apiCalls).toBe(callsWhenOpened);

    fake.setFault(null);
    // halfOpenAfter is a duration: poll (bounded) until a probe is let through, then it closes.
    await vi.waitFor(() => read(), { timeout: 10_000, interval: 50 });
    expect(states).toEqual(['open', 'half-open', 'closed']);
    expect(fake.apiCalls).toBe(callsWhenOpened + 1);
  });

  it('4xx answers do not open the breaker (fake Strapi: 404)', async () => {
    fake = await startFakeStrapi({ collections: { articles: [] } });
    const strapi = clientFor(fake, { breaker: { threshold: 2, halfOpenAfterMs: 60_000 } });
    for (let i = 0; i < 5; i++) {
      await expect(
        strapi.collection('articles').findOne(`x${i}`, undefined, articleSchema),
      ).rejects.toMatchObject({
        code: 'STRAPI_NOT_FOUND',
      });
    }
    expect(strapi.status().breaker).toBe('closed');
  });
});

describe('timeouts and retries', () => {
  it('a Strapi that accepts and never answers gives a typed timeout within timeout + margin (fake Strapi: hang)', async () => {
    fake = await startFakeStrapi({ collections: { articles: seedArticles(1) } });
    const strapi = clientFor(fake, { timeoutMs: 500 });
    fake.setFault({ kind: 'hang' });
    const started = performance.now();
    const error = await strapi
      .collection('articles')
      .find(undefined, articleSchema)
      .catch((e: unknown) => e);
    const elapsed = performance.now() - started;
    expect(error).toBeInstanceOf(StrapiTimeoutError);
    expect(error).toMatchObject({ code: 'STRAPI_TIMEOUT', timeoutMs: 500 });
    expect(elapsed).toBeGreaterThanOrEqual(490);
    expect(elapsed).toBeLessThan(500 + 1_500);
  });

  it('POST and PUT are never retried, even on timeout or 503 (fake Strapi: hang, 503)', async () => {
    fake = await startFakeStrapi({ collections: { articles: seedArticles(1) } });
    const strapi = clientFor(fake, { timeoutMs: 300, retry: { maxAttempts: 3, initialDelayMs: 10 } });
    const articles = strapi.collection('articles');
    fake.setFault({ kind: 'hang' });
    await expect(articles.create({ title: 'x', slug: 'x' }, articleSchema)).rejects.toMatchObject({
      code: 'STRAPI_TIMEOUT',
    });
    fake.setFault({ kind: 'status', status: 503 });
    await expect(articles.update('doc1', { title: 'y' }, articleSchema)).rejects.toMatchObject({
      code: 'STRAPI_UNAVAILABLE',
      status: 503,
    });
    await expect(articles.delete('doc1')).rejects.toMatchObject({ code: 'STRAPI_UNAVAILABLE' });
    expect(fake.requests.map((r) => r.method)).toEqual(['POST', 'PUT', 'DELETE']);
  });

  it('GET is retried with backoff on 503 and succeeds (fake Strapi: 2 × 503)', async () => {
    fake = await startFakeStrapi({ collections: { articles: seedArticles(1) } });
    const strapi = clientFor(fake, { retry: { maxAttempts: 3, initialDelayMs: 10, maxDelayMs: 50 } });
    const attempts: UpstreamEvent[] = [];
    strapi.on('upstream', (event) => attempts.push(event));
    fake.setFault({ kind: 'status', status: 503 }, 2);
    const result = await strapi.collection('articles').find(undefined, articleSchema);
    expect(result.data).toHaveLength(1);
    expect(attempts.map((a) => [a.attempt, a.status, a.ok])).toEqual([
      [0, 503, false],
      [1, 503, false],
      [2, 200, true],
    ]);
  });

  it('honours Retry-After on 429 (fake Strapi: 429 Retry-After: 1)', async () => {
    fake = await startFakeStrapi({ collections: { articles: seedArticles(1) } });
    const strapi = clientFor(fake, { retry: { maxAttempts: 1, initialDelayMs: 1, maxDelayMs: 5 } });
    fake.setFault({ kind: 'status', status: 429, headers: { 'retry-after': '1' } }, 1);
    const started = performance.now();
    await strapi.collection('articles').find(undefined, articleSchema);
    expect(performance.now() - started).toBeGreaterThanOrEqual(990);
    expect(fake.apiCalls).toBe(2);
  });

  it('does not wait for a Retry-After beyond maxRetryAfterMs (fake Strapi: 429 Retry-After: 120)', async () => {
    fake = await startFakeStrapi({ collections: { articles: seedArticles(1) } });
    const strapi = clientFor(fake, { retry: { maxAttempts: 3, maxRetryAfterMs: 1_000 } });
    fake.setFault({ kind: 'status', status: 429, headers: { 'retry-after': '120' } });
    await expect(strapi.collection('articles').find(undefined, articleSchema)).rejects.toMatchObject({
      code: 'STRAPI_RATE_LIMITED',
      retryAfterMs: 120_000,
    });
    expect(fake.apiCalls).toBe(1);
  });

  it('connection resets are retried for GET (fake Strapi: reset once)', async () => {
    fake = await startFakeStrapi({ collections: { articles: seedArticles(1) } });
    const strapi = clientFor(fake, { retry: { maxAttempts: 2, initialDelayMs: 10 } });
    fake.setFault({ kind: 'reset' }, 1);
    expect((await strapi.collection('articles').find(undefined, articleSchema)).data).toHaveLength(1);
    expect(fake.apiCalls).toBe(2);
  });
});

describe('ping', () => {
  it('reports reachability without throwing (fake Strapi)', async () => {
    fake = await startFakeStrapi();
    const strapi = clientFor(fake);
    expect(await strapi.ping()).toMatchObject({ ok: true, status: 204, breaker: 'closed' });
    await fake.stop();
    expect(await strapi.ping()).toMatchObject({ ok: false, error: 'ECONNREFUSED' });
  });
});

describe('gone is not unavailable', () => {
  it('a 404 on revalidation drops the entry instead of serving it stale (fake Strapi)', async () => {
    fake = await startFakeStrapi({ collections: { articles: seedArticles(2) } });
    const clock = manualClock();
    const strapi = clientFor(fake, {
      now: clock.now,
      cache: { ttlMs: 1_000, graceMs: 60_000, staleWhileRevalidate: false },
    });
    const articles = strapi.collection('articles');
    await articles.findOne('doc1', undefined, articleSchema);
    fake.documents('articles').splice(0, 1);
    clock.advance(5_000);
    await expect(articles.findOne('doc1', undefined, articleSchema)).rejects.toMatchObject({
      code: 'STRAPI_NOT_FOUND',
    });
    expect(strapi.status().l1Size).toBe(0);
  });
});
