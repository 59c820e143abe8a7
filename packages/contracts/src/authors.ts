import { z } from 'zod';
import { ArticleSummary, Slug } from './articles.ts';

/** How many of an author's latest published articles GET /authors/:slug embeds. */
export const AUTHOR_LATEST_ARTICLES = 5;

export const AuthorParams = z.object({ slug: Slug }).strict();
export type AuthorParams = z.infer<typeof AuthorParams>;

/** An article in an author's list: the summary without the (known) author. */
export const AuthorArticle = ArticleSummary.omit({ author: true });
export type AuthorArticle = z.infer<typeof AuthorArticle>;

export const AuthorProfile = z.object({
  id: z.string().describe('Strapi documentId.'),
  slug: z.string(),
  name: z.string(),
  bio: z.string().describe('Empty when the author has none.'),
  latestArticles: z
    .array(AuthorArticle)
    .max(AUTHOR_LATEST_ARTICLES)
    .describe(
      `The author's latest published articles, newest first (publishedAt desc, ties by slug), at most ${AUTHOR_LATEST_ARTICLES}.`,
    ),
});
export type AuthorProfile = z.infer<typeof AuthorProfile>;

export const AuthorResponse = z.object({ data: AuthorProfile });
export type AuthorResponse = z.infer<typeof AuthorResponse>;
