import { z } from 'zod';
import { LIMITS } from './limits.ts';
import { queryInteger } from './query.ts';

export const Slug = z
  .string()
  .min(1)
  .max(LIMITS.maxSlugLength)
  .regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, 'must be lowercase letters, digits and single dashes');

export const ArticleSort = z
  .enum(['publishedAt:desc', 'publishedAt:asc', 'title:asc', 'title:desc'])
  .describe('Sort order; ties are broken by slug so pages are stable.');
export type ArticleSort = z.infer<typeof ArticleSort>;

export const ListArticlesQuery = z
  .object({
    page: queryInteger({ min: 1, max: LIMITS.maxPage }).default(1),
    pageSize: queryInteger({ min: 1, max: LIMITS.maxPageSize }).default(LIMITS.defaultPageSize),
    sort: ArticleSort.default('publishedAt:desc'),
    q: z
      .string()
      .trim()
      .min(1)
      .max(LIMITS.maxSearchLength)
      .regex(/^[^\p{Cc}]*$/u, 'must not contain control characters')
      .optional()
      .describe('Case-insensitive search in title and summary.'),
    author: Slug.optional().describe('Only articles by the author with this slug.'),
  })
  .strict();
export type ListArticlesQuery = z.infer<typeof ListArticlesQuery>;

export const ArticleParams = z.object({ slug: Slug }).strict();
export type ArticleParams = z.infer<typeof ArticleParams>;

export const Author = z.object({ slug: z.string(), name: z.string() });
export type Author = z.infer<typeof Author>;

export const ArticleSummary = z.object({
  id: z.string().describe('Strapi documentId.'),
  slug: z.string(),
  title: z.string(),
  summary: z.string(),
  author: Author.nullable(),
  publishedAt: z.string().describe('ISO 8601.'),
  updatedAt: z.string().describe('ISO 8601.'),
});
export type ArticleSummary = z.infer<typeof ArticleSummary>;

export const Article = ArticleSummary.extend({ body: z.string() });
export type Article = z.infer<typeof Article>;

export const Pagination = z.object({
  page: z.number().int(),
  pageSize: z.number().int(),
  pageCount: z.number().int(),
  total: z.number().int(),
});
export type Pagination = z.infer<typeof Pagination>;

export const ArticleListResponse = z.object({
  data: z.array(ArticleSummary),
  meta: z.object({ pagination: Pagination }),
});
export type ArticleListResponse = z.infer<typeof ArticleListResponse>;

export const ArticleResponse = z.object({ data: Article });
export type ArticleResponse = z.infer<typeof ArticleResponse>;
