import { AUTHOR_LATEST_ARTICLES, type AuthorProfile } from '@pilot/contracts';
import { defineQuery, type StrapiClient } from '@pilot/strapi-client';
import { z } from 'zod';
import { mapStrapi } from './errors.ts';

/**
 * GET /authors/:slug reads Strapi over GraphQL: the author and their latest published articles
 * in one round trip (REST would need `populate` with a nested sort and limit, or two calls).
 * `status: PUBLISHED` on the root is inherited by the nested relation, so drafts never appear.
 */
export const AuthorWithLatestArticles = defineQuery({
  document: /* GraphQL */ `
    query AuthorWithLatestArticles($slug: String!, $limit: Int!) {
      authors(filters: { slug: { eq: $slug } }, pagination: { limit: 1 }, status: PUBLISHED) {
        documentId
        slug
        name
        bio
        articles(sort: ["publishedAt:desc", "slug:asc"], pagination: { limit: $limit }) {
          documentId
          slug
          title
          summary
          publishedAt
          updatedAt
        }
      }
    }
  `,
  variables: z.object({ slug: z.string(), limit: z.number().int().min(1) }),
  schema: z.object({
    authors: z.array(
      z.object({
        documentId: z.string(),
        slug: z.string(),
        name: z.string(),
        bio: z.string().nullable(),
        articles: z.array(
          z.object({
            documentId: z.string(),
            slug: z.string(),
            title: z.string(),
            summary: z.string().nullable(),
            publishedAt: z.string().nullable(),
            updatedAt: z.string(),
          }),
        ),
      }),
    ),
  }),
  // __typename → plural API id: the answer is tagged doc:authors:<id>, doc:articles:<id> for each
  // article, type:authors and type:articles, so the webhook drops it when the author, one of the
  // listed articles, or any article (a new one may belong to this author) changes.
  types: { Author: 'authors', Article: 'articles' },
});

/** The author with this slug and their latest published articles, or null (Strapi over GraphQL). */
export async function getAuthorOverGraphQL(read: StrapiClient, slug: string): Promise<AuthorProfile | null> {
  const result = await mapStrapi(() =>
    read.graphql.query(AuthorWithLatestArticles, { slug, limit: AUTHOR_LATEST_ARTICLES }),
  );
  const author = result.authors[0];
  if (!author) return null;
  return {
    id: author.documentId,
    slug: author.slug,
    name: author.name,
    bio: author.bio ?? '',
    latestArticles: author.articles.map((a) => ({
      id: a.documentId,
      slug: a.slug,
      title: a.title,
      summary: a.summary ?? '',
      // `status: PUBLISHED` guarantees it; the fallback only keeps the type honest
      publishedAt: a.publishedAt ?? a.updatedAt,
      updatedAt: a.updatedAt,
    })),
  };
}
