import { createHash } from 'node:crypto';

/**
 * Deterministic demo content for the in-memory repository: the same options always give the
 * same authors, articles, slugs, dates and documentIds, so tests can compute what to expect.
 * Shaped like the real CMS seed (apps/cms): topic-based titles, 24-character documentIds.
 */
export interface SeedAuthor {
  documentId: string;
  name: string;
  slug: string;
  bio: string;
}

export interface SeedArticle {
  documentId: string;
  title: string;
  slug: string;
  summary: string;
  body: string;
  /** null: a draft, never listed or found. */
  publishedAt: string | null;
  updatedAt: string;
  /** documentId of the author, or null for an article without one. */
  authorId: string | null;
}

export interface ContentSeed {
  authors: SeedAuthor[];
  articles: SeedArticle[];
}

export interface SeedOptions {
  /** Published articles (default 60). */
  articles?: number;
  /** Authors (default 6). The last author has no articles, to test empty filters. */
  authors?: number;
  /** Unpublished drafts (default 2). */
  drafts?: number;
}

const AUTHOR_NAMES = [
  'Ada Lovelace',
  'Grace Hopper',
  'Alan Turing',
  'Barbara Liskov',
  'Edsger Dijkstra',
  'Margaret Hamilton',
  'Donald Knuth',
  'Frances Allen',
];

const TOPICS = [
  'Strangler Fig',
  'Fastify',
  'Express',
  'Redis',
  'Canary',
  'Shadow Traffic',
  'Webhooks',
  'Circuit Breakers',
  'Load Testing',
  'Cache Invalidation',
];

const SHAPES = [
  '{t} in Practice',
  'A Field Guide to {t}',
  'Lessons Learned from {t}',
  '{t} Without Tears',
  'Why {t} Matters',
  'Notes on {t}',
];

const FIRST_PUBLISHED = Date.UTC(2024, 0, 1, 9, 0, 0);
const HOUR = 3_600_000;

/** A stable 24-character lowercase id shaped like Strapi's documentIds. */
export function seedDocumentId(kind: string, index: number): string {
  const digest = createHash('sha256').update(`pilot-memory-seed:${kind}:${index}`).digest();
  let out = '';
  for (const byte of digest) out += (byte % 36).toString(36);
  return `${'abcdefghijklmnopqrstuvwxyz'[(digest[0] ?? 0) % 26]}${out.slice(1, 24)}`;
}

export function slugify(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/**
 * Article i: topic i % 10, shape floor(i / 10) % 6, author i % (authors - 1), published 26 h
 * after article i-1, except that every 10th article shares its publishedAt with the previous
 * one (ties are broken by slug). Article 7 has no author.
 */
export function createSeed(options: SeedOptions = {}): ContentSeed {
  const articleCount = options.articles ?? 60;
  const authorCount = Math.max(1, options.authors ?? 6);
  const draftCount = options.drafts ?? 2;
  const authors: SeedAuthor[] = Array.from({ length: authorCount }, (_, i) => {
    const base = AUTHOR_NAMES[i % AUTHOR_NAMES.length] as string;
    const name = i < AUTHOR_NAMES.length ? base : `${base} ${Math.floor(i / AUTHOR_NAMES.length) + 1}`;
    return {
      documentId: seedDocumentId('author', i),
      name,
      slug: slugify(name),
      bio: `${name} writes about migrating production systems one route at a time.`,
    };
  });
  const writing = authorCount > 1 ? authorCount - 1 : 1;
  const articles: SeedArticle[] = [];
  let published = FIRST_PUBLISHED;
  for (let i = 0; i < articleCount; i++) {
    const topic = TOPICS[i % TOPICS.length] as string;
    const shape = SHAPES[Math.floor(i / TOPICS.length) % SHAPES.length] as string;
    const round = Math.floor(i / (TOPICS.length * SHAPES.length));
    const title = shape.replace('{t}', topic) + (round > 0 ? ` (Part ${round + 1})` : '');
    if (i > 0 && i % 10 !== 0) published += 26 * HOUR;
    const at = new Date(published).toISOString();
    articles.push({
      documentId: seedDocumentId('article', i),
      title,
      slug: slugify(title),
      summary: `What a team learned about ${topic.toLowerCase()} while moving one route at a time (article ${i + 1}).`,
      body: `# ${title}\n\nArticle ${i + 1}, about **${topic}**.\n\nEvery claim here is checked with numbers.`,
      publishedAt: at,
      updatedAt: at,
      authorId: i === 7 ? null : (authors[i % writing] as SeedAuthor).documentId,
    });
  }
  for (let i = 0; i < draftCount; i++) {
    const title = `Unpublished Draft Number ${i + 1}`;
    articles.push({
      documentId: seedDocumentId('draft', i),
      title,
      slug: slugify(title),
      summary: `A draft about ${TOPICS[i % TOPICS.length]} that is not published yet.`,
      body: 'Work in progress.',
      publishedAt: null,
      updatedAt: new Date(FIRST_PUBLISHED + i * HOUR).toISOString(),
      authorId: (authors[0] as SeedAuthor).documentId,
    });
  }
  return { authors, articles };
}
