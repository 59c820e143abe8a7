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
  // the lookup first: an article kept here was frozen then and stays so (Object.isFrozen is a
  // call into the runtime)
  let answer = answers.get(article);
  if (answer) return answer;
  if (!Object.isFrozen(article)) return { data: article };
  answer = Object.freeze({ data: article });
  answers.set(article, answer);
  return answer;
}

/** GET /articles and GET /articles/:slug: cached public reads. */
const articles: FastifyPluginAsyncZod = async (fastify) => {
  const { content } = fastify.deps;

  async function readArticle(slug: string): Promise<{ data: Article }> {
    const article = await content.getArticle(slug);
    if (!article) throw new ApiError('NOT_FOUND', { message: 'No article with this slug.' });
    return answerFor(article);
  }

  fastify.get(
    routes.listArticles.path,
    { schema: schemaFor(routes.listArticles), config: { publicRead: true } },
    async (request) => content.listArticles(request.query),
  );

  fastify.get(
    routes.getArticle.path,
    { schema: schemaFor(routes.getArticle), config: { publicRead: true } },
    // not async: a cached article is answered without a promise (Fastify sends a returned value)
    (request) => {
      const cached = content.cachedArticle(request.params.slug);
      return cached ? answerFor(cached) : readArticle(request.params.slug);
    },
  );
};

export default articles;
