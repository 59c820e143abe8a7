import { LIMITS, routes } from '@pilot/contracts';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { fanOut, fetchJson } from '../lib/aggregate.ts';
import { schemaFor } from '../lib/route-schema.ts';

/**
 * GET /aggregate: latest articles + weather + quote, concurrently, each with
 * AGGREGATE_TIMEOUT_MS. Missing parts are null and listed in meta.missing (meta.partial).
 */
const aggregate: FastifyPluginAsyncZod = async (fastify) => {
  const { content, config, fetch: fetchImpl } = fastify.deps;

  fastify.get(routes.aggregate.path, { schema: schemaFor(routes.aggregate) }, async (request) => {
    const { body, failures } = await fanOut(
      {
        articles: () => content.latestArticles(LIMITS.aggregateArticleCount),
        weather: (signal) => fetchJson(fetchImpl, config.AGGREGATE_WEATHER_URL, signal, request.id),
        quote: (signal) => fetchJson(fetchImpl, config.AGGREGATE_QUOTE_URL, signal, request.id),
      },
      config.AGGREGATE_TIMEOUT_MS,
    );
    if (body.meta.partial) {
      request.log.warn(
        {
          missing: body.meta.missing,
          reasons: Object.fromEntries(Object.entries(failures).map(([k, v]) => [k, String(v)])),
        },
        'aggregate answered partially',
      );
    }
    return body;
  });
};

export default aggregate;
