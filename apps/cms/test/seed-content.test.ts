import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { SEED } from '../testing/index.ts';

const require = createRequire(import.meta.url);
const content = require('../src/seed/content.js');

describe('seed generator (no Strapi)', () => {
  it('is deterministic and matches what testing/index.ts advertises', () => {
    expect(content.TOPICS).toEqual(SEED.topics);
    expect(content.buildAuthors()).toHaveLength(SEED.authors);
    const a = content.buildArticles(SEED.defaultArticles);
    const b = content.buildArticles(SEED.defaultArticles);
    expect(a).toEqual(b);
    expect(a[0]).toMatchObject({
      title: SEED.firstArticle.title,
      slug: SEED.firstArticle.slug,
      authorIndex: 0,
    });
    expect(new Set(a.map((x: { slug: string }) => x.slug)).size).toBe(a.length);
    expect(new Set(a.map((x: { documentId: string }) => x.documentId)).size).toBe(a.length);
  });

  it('produces slugs the public contract accepts', () => {
    for (const article of content.buildArticles(400)) {
      expect(article.slug).toMatch(/^[a-z0-9]+(?:-[a-z0-9]+)*$/);
    }
  });
});
