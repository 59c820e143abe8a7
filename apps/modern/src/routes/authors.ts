import { ApiError, routes } from '@pilot/contracts';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { schemaFor } from '../lib/route-schema.ts';

/** GET /authors/:slug: an author with their latest articles (Strapi over GraphQL, cached). */
const authors: FastifyPluginAsyncZod = async (fastify) => {
  const { content } = fastify.deps;

  fastify.get(
    routes.getAuthor.path,
    { schema: schemaFor(routes.getAuthor), config: { publicRead: true } },
    async (request) => {
      const author = await content.getAuthor(request.params.slug);
      if (!author) throw new ApiError('NOT_FOUND', { message: 'No author with this slug.' });
      return { data: author };
    },
  );
};

export default authors;
