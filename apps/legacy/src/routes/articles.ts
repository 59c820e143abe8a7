import { errorBody, routes } from '@pilot/contracts';
import { Router } from 'express';
import type { AppDeps } from '../deps.ts';
import { validateRequest } from '../lib/validate.ts';
import { sendError, sendJson } from '../lib/send.ts';

/** GET /articles and GET /articles/:slug: cached public reads. */
export function articlesRouter({ content }: AppDeps): Router {
  const router = Router();

  router.get(routes.listArticles.path, async (req, res) => {
    const checked = validateRequest(routes.listArticles, req);
    if (!checked.ok) return sendError(res, checked.error);
    const page = await content.listArticles(checked.value.query);
    sendJson(res, 200, page, 'public');
  });

  router.get(routes.getArticle.path, async (req, res) => {
    const checked = validateRequest(routes.getArticle, req);
    if (!checked.ok) return sendError(res, checked.error);
    const article = await content.getArticle(checked.value.params.slug);
    if (!article) return sendError(res, errorBody('NOT_FOUND', { message: 'No article with this slug.' }));
    sendJson(res, 200, { data: article }, 'public');
  });

  return router;
}
