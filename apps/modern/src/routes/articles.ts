import { ApiError, routes } from '@pilot/contracts';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { schemaFor } from '../lib/route-schema.ts';

/** GET /articles and GET /articles/:slug: cached public reads. */
const articles: FastifyPluginAsyncZod = async (fastify) => {
  const { content } = fastify.deps;

  fastify.get(
    routes.listArticles.path,
    { schema: schemaFor(routes.listArticles), config: { publicRead: true } },
    async (request) => content.listArticles(request.query),
  );

  fastify.get(
    routes.getArticle.path,
    { schema: schemaFor(routes.getArticle), config: { publicRead: true } },
    async (request) => {
      const article = await content.getArticle(request.params.slug);
      if (!article) throw new ApiError('NOT_FOUND', { message: 'No article with this slug.' });
      return { data: article };
    },
  );
};

export default articles;
