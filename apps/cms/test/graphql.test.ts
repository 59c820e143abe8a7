import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CmsInstance, SEED, startCms } from '../testing/index.ts';
import { api, type Json } from './helpers.ts';

// The real Strapi of apps/cms with the GraphQL plugin, API-only, fresh temp SQLite, 60 articles.
let cms: CmsInstance;

beforeAll(async () => {
  cms = await startCms({ seedArticles: 60 });
});

afterAll(async () => {
  await cms?.stop();
});

async function graphql(
  query: string,
  variables: Record<string, unknown> = {},
  token: string | null = cms.readToken,
): Promise<{ status: number; body: Json }> {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(`${cms.url}/graphql`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ query, variables }),
  });
  return { status: response.status, body: await response.json() };
}

const AUTHOR_WITH_ARTICLES = `query AuthorWithArticles($slug: String!, $limit: Int!) {
  authors(filters: { slug: { eq: $slug } }) {
    documentId name slug
    articles(sort: ["publishedAt:desc", "slug:asc"], pagination: { limit: $limit }) {
      documentId slug title publishedAt
    }
  }
}`;

describe('GraphQL beside REST (real Strapi)', () => {
  it('the read token reads the seeded content over GraphQL exactly as over REST', async () => {
    const slug = SEED.firstArticle.author;
    const rest = await api(
      cms,
      `/api/articles?filters[author][slug][$eq]=${slug}&sort[0]=publishedAt:desc&sort[1]=slug:asc&fields[0]=slug&fields[1]=title&fields[2]=publishedAt&pagination[pageSize]=100`,
      { token: cms.readToken },
    );
    expect(rest.status).toBe(200);
    const gql = await graphql(AUTHOR_WITH_ARTICLES, { slug, limit: 100 });
    expect(gql.status).toBe(200);
    expect(gql.body.errors).toBeUndefined();
    const [author] = gql.body.data.authors;
    expect(author.slug).toBe(slug);
    expect(author.articles).toEqual(
      rest.body.data.map((a: Json) => ({
        documentId: a.documentId,
        slug: a.slug,
        title: a.title,
        publishedAt: a.publishedAt,
      })),
    );
    // 60 articles, 12 authors, article i by author i % 12: five each, drafts excluded
    expect(author.articles).toHaveLength(5);
    expect(author.articles.map((a: Json) => a.slug)).toContain(SEED.firstArticle.slug);
  });

  it('drafts are invisible over GraphQL unless asked for, like REST', async () => {
    const published = await graphql(
      'query Q { articles(filters: { title: { startsWith: "Unpublished" } }) { slug } }',
    );
    expect(published.body.data.articles).toEqual([]);
    const drafts = await graphql(
      'query Q { articles(status: DRAFT, filters: { title: { startsWith: "Unpublished" } }) { slug } }',
    );
    expect(drafts.body.data.articles.length).toBe(SEED.drafts);
  });

  it('without a token → 401; a token without the permission → FORBIDDEN, as REST answers 403', async () => {
    const anonymous = await graphql('query Q { authors { name } }', {}, null);
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.error).toMatchObject({ status: 401, name: 'UnauthorizedError' });
    const unknown = await graphql('query Q { authors { name } }', {}, 'not-a-token');
    expect(unknown.status).toBe(401);

    const readOnSubscribers = await graphql('query Q { subscribers { email } }');
    expect(readOnSubscribers.status).toBe(200);
    expect(readOnSubscribers.body.errors[0].extensions).toMatchObject({
      code: 'FORBIDDEN',
      error: { name: 'ForbiddenError' },
    });
    expect((await api(cms, '/api/subscribers', { token: cms.readToken })).status).toBe(403);

    const writeOnArticles = await graphql('query Q { articles { slug } }', {}, cms.writeToken);
    expect(writeOnArticles.body.errors[0].extensions.code).toBe('FORBIDDEN');
    const mutation = await graphql(
      'mutation M($id: ID!) { updateArticle(documentId: $id, data: { title: "x" }) { title } }',
      { id: 'any' },
    );
    expect(mutation.body.errors[0].extensions.code).toBe('FORBIDDEN');
  });

  it('a query deeper than depthLimit (7) is refused before any resolver runs: 400 GRAPHQL_VALIDATION_FAILED', async () => {
    const deep =
      'query TooDeep { authors { articles { author { articles { author { articles { author { articles { title } } } } } } } } }';
    const res = await graphql(deep);
    expect(res.status).toBe(400);
    expect(res.body.data).toBeUndefined();
    expect(res.body.errors[0]).toMatchObject({
      message: "'TooDeep' exceeds maximum operation depth of 7",
      extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
    });
    // seven levels are fine
    const ok = await graphql(
      'query Fine { authors(pagination: { limit: 1 }) { articles(pagination: { limit: 1 }) { author { articles(pagination: { limit: 1 }) { author { articles(pagination: { limit: 1 }) { title } } } } } } }',
    );
    expect(ok.status).toBe(200);
    expect(ok.body.errors).toBeUndefined();
  });

  it('list sizes: 25 by default, never more than maxLimit (100), as REST', async () => {
    const byDefault = await graphql(
      'query Q { articles_connection { nodes { slug } pageInfo { pageSize total } } }',
    );
    expect(byDefault.body.data.articles_connection.pageInfo).toEqual({ pageSize: 25, total: 60 });
    expect(byDefault.body.data.articles_connection.nodes).toHaveLength(25);
    const tooMany = await graphql(
      'query Q { articles_connection(pagination: { pageSize: 1000 }) { pageInfo { pageSize } } }',
    );
    expect(tooMany.body.data.articles_connection.pageInfo.pageSize).toBe(100);
  });

  it('outside development there is no landing page and no introspection', async () => {
    const page = await fetch(`${cms.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(401); // not served the Sandbox: the request is just an unauthenticated API call
    await page.arrayBuffer();
    const introspection = await graphql('query I { __schema { types { name } } }');
    expect(introspection.status).toBe(400);
    expect(introspection.body.errors[0].message).toMatch(/introspection/i);
  });
});
