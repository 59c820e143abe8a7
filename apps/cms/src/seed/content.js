'use strict';

/**
 * Deterministic seed content: the same inputs always give the same authors, articles,
 * slugs, dates and documentIds. Pure functions (no Strapi), so tests can compute what to expect.
 */

const { createHash } = require('node:crypto');

/** The seed's version: bump it when the generated content changes (a new DB then reseeds). */
const SEED_VERSION = 1;

const AUTHOR_NAMES = [
  'Ada Lovelace',
  'Grace Hopper',
  'Alan Turing',
  'Barbara Liskov',
  'Edsger Dijkstra',
  'Margaret Hamilton',
  'Donald Knuth',
  'Frances Allen',
  'Ken Thompson',
  'Radia Perlman',
  'Leslie Lamport',
  'Katherine Johnson',
];

/** Searchable title subjects: each appears in exactly every 20th article title. */
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
  'Gateways',
  'Observability',
  'Rate Limits',
  'Retries',
  'SQLite',
  'Postgres',
  'JSON Schemas',
  'Streaming',
  'Kubernetes',
  'Feature Flags',
];

/** Title shapes; `{t}` is the topic. None contains a topic word. */
const SHAPES = [
  '{t} in Practice',
  'A Field Guide to {t}',
  'Lessons Learned from {t}',
  '{t} Without Tears',
  'Debugging {t} at Night',
  'Why {t} Matters',
  'The Quiet Cost of {t}',
  '{t}: Myths and Numbers',
  'Ten Questions About {t}',
  'Measuring {t}',
  '{t} for Newcomers',
  'When {t} Goes Wrong',
  'A Year of {t}',
  'Notes on {t}',
  'Rethinking {t}',
];

const FIRST_PUBLISHED = Date.UTC(2024, 0, 1, 9, 0, 0);
const HOUR = 3_600_000;

/** A stable 24-character lowercase id shaped like Strapi's own documentIds. */
function documentIdFor(kind, index) {
  const digest = createHash('sha256').update(`pilot-seed:${SEED_VERSION}:${kind}:${index}`).digest();
  let out = '';
  for (const byte of digest) out += (byte % 36).toString(36);
  return `${'abcdefghijklmnopqrstuvwxyz'[digest[0] % 26]}${out.slice(1, 24)}`;
}

function slugify(text) {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

function buildAuthors(count = AUTHOR_NAMES.length) {
  return Array.from({ length: count }, (_, i) => {
    const base = AUTHOR_NAMES[i % AUTHOR_NAMES.length];
    const name = i < AUTHOR_NAMES.length ? base : `${base} ${Math.floor(i / AUTHOR_NAMES.length) + 1}`;
    const at = new Date(FIRST_PUBLISHED - (count - i) * HOUR).toISOString();
    return {
      documentId: documentIdFor('author', i),
      name,
      slug: slugify(name),
      bio: `${name} writes about migrating production systems one route at a time.`,
      createdAt: at,
      updatedAt: at,
    };
  });
}

/**
 * Article i: topic i % 20, shape floor(i / 20) % 15, author i % authors; published 26 h after
 * article i-1 (2024-01-01T09:00Z first). Past 300 articles, titles get a " (Part n)" suffix.
 */
function buildArticles(count, authorCount = AUTHOR_NAMES.length) {
  return Array.from({ length: count }, (_, i) => {
    const topic = TOPICS[i % TOPICS.length];
    const shape = SHAPES[Math.floor(i / TOPICS.length) % SHAPES.length];
    const round = Math.floor(i / (TOPICS.length * SHAPES.length));
    const title = shape.replace('{t}', topic) + (round > 0 ? ` (Part ${round + 1})` : '');
    const at = new Date(FIRST_PUBLISHED + i * 26 * HOUR).toISOString();
    const authorIndex = i % authorCount;
    return {
      documentId: documentIdFor('article', i),
      title,
      slug: slugify(title),
      summary: `What a team learned about ${topic.toLowerCase()} while moving one route at a time (seed article ${i + 1}).`,
      body: [
        `# ${title}`,
        '',
        `This is seed article number ${i + 1}. It is about **${topic}** and was written for the migration pilot.`,
        '',
        `Every claim here is checked with numbers: latency percentiles, error rates and the cost of each step.`,
        '',
        `- topic: ${topic}`,
        `- sequence: ${i + 1}`,
      ].join('\n'),
      authorIndex,
      publishedAt: at,
      createdAt: at,
      updatedAt: at,
    };
  });
}

/** Draft-only documents (never published): the REST API must not show them without status=draft. */
function buildDrafts(count, authorCount = AUTHOR_NAMES.length) {
  return Array.from({ length: count }, (_, i) => {
    const title = `Unpublished Draft Number ${i + 1}`;
    const at = new Date(FIRST_PUBLISHED + i * HOUR).toISOString();
    return {
      documentId: documentIdFor('draft', i),
      title,
      slug: slugify(title),
      summary: 'A draft that is not published yet.',
      body: 'Work in progress.',
      authorIndex: i % authorCount,
      publishedAt: null,
      createdAt: at,
      updatedAt: at,
    };
  });
}

module.exports = {
  SEED_VERSION,
  AUTHOR_NAMES,
  TOPICS,
  SHAPES,
  documentIdFor,
  slugify,
  buildAuthors,
  buildArticles,
  buildDrafts,
};
