import { errorBody, routes } from '@pilot/contracts';
import { Router } from 'express';
import type { AppDeps } from '../deps.ts';
import { sendError, sendJson } from '../lib/send.ts';
import { validateRequest } from '../lib/validate.ts';

/** GET /authors/:slug: an author with their latest articles (Strapi over GraphQL, cached). */
export function authorsRouter({ content }: AppDeps): Router {
  const router = Router();

  router.get(routes.getAuthor.path, async (req, res) => {
    const checked = validateRequest(routes.getAuthor, req);
    if (!checked.ok) return sendError(res, checked.error);
    const author = await content.getAuthor(checked.value.params.slug);
    if (!author) return sendError(res, errorBody('NOT_FOUND', { message: 'No author with this slug.' }));
    sendJson(res, 200, { data: author }, 'public');
  });

  return router;
}
