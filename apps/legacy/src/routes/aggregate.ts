import {
  type AggregatePart,
  type AggregateResponse,
  ApiError,
  type ArticleSummary,
  HEADERS,
  LIMITS,
  routes,
} from '@pilot/contracts';
import { Router } from 'express';
import type { AppDeps } from '../deps.ts';
import { sendJson } from '../lib/send.ts';

function failed(part: AggregatePart, timedOut: boolean): ApiError {
  return new ApiError(timedOut ? 'UPSTREAM_TIMEOUT' : 'UPSTREAM_FAILED', {
    message: `The ${part} upstream ${timedOut ? 'did not answer in time' : 'failed'}.`,
    details: { missing: [part] },
  });
}

/**
 * GET /aggregate, the legacy way: the three parts are awaited ONE AFTER ANOTHER (latest
 * articles, then weather, then quote), so the answer takes the sum of their latencies, and
 * the first failure fails the whole request (502 UPSTREAM_FAILED, or 504 UPSTREAM_TIMEOUT).
 * This is the behaviour the modern service improves on; keep it as it is.
 */
export function aggregateRouter({ config, content, fetch: fetchImpl = fetch }: AppDeps): Router {
  const router = Router();

  async function getJson(part: AggregatePart, url: string, requestId: string): Promise<unknown> {
    let response: Response;
    try {
      response = await fetchImpl(url, {
        headers: { accept: 'application/json', [HEADERS.requestId]: requestId },
        signal: AbortSignal.timeout(config.AGGREGATE_TIMEOUT_MS),
      });
      if (!response.ok) {
        await response.body?.cancel().catch(() => {});
        throw failed(part, false);
      }
      return await response.json();
    } catch (error) {
      if (error instanceof ApiError) throw error;
      throw failed(part, (error as Error | null)?.name === 'TimeoutError');
    }
  }

  router.get(routes.aggregate.path, async (req, res) => {
    let articles: ArticleSummary[];
    try {
      articles = await content.latestArticles(LIMITS.aggregateArticleCount);
    } catch (error) {
      throw failed('articles', error instanceof ApiError && error.code === 'UPSTREAM_TIMEOUT');
    }
    const weather = await getJson('weather', config.AGGREGATE_WEATHER_URL, String(req.id));
    const quote = await getJson('quote', config.AGGREGATE_QUOTE_URL, String(req.id));
    const body: AggregateResponse = {
      data: { articles, weather, quote },
      meta: { partial: false, missing: [] },
    };
    sendJson(res, 200, body);
  });

  return router;
}
