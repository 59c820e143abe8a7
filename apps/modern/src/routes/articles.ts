import { ApiError, type Article, routes } from '@pilot/contracts';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { schemaFor } from '../lib/route-schema.ts';

const answers = new WeakMap<Article, { data: Article }>();

/**
 * The 200 body of GET /articles/:slug. A frozen article is a cache hit's (the content
 * repository hands back the same one until the entry changes): its body object is kept, so the
 * response serializer meets the same frozen object and reuses its text.
 */
function answerFor(article: Article): { data: Article } {
  if (!Object.isFrozen(article)) return { data: article };
  let answer = answers.get(article);
  if (!answer) {
    answer = Object.freeze({ data: article });
    answers.set(article, answer);
  }
  return answer;
}

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
      return answerFor(article);
    },
  );
};

export default articles;
