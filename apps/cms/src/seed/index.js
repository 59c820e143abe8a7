'use strict';

const { SEED_VERSION, buildArticles, buildAuthors, buildDrafts } = require('./content.js');

const ARTICLE = 'api::article.article';
const AUTHOR = 'api::author.author';
const MARKER = { type: 'plugin', name: 'pilot', key: 'seed' };

/**
 * Seeds authors and articles once per database, in one transaction, with bulk inserts
 * (createMany + one insert per chunk of relation rows): ~300 articles take well under a second.
 *
 * Writes rows the way Strapi 5's Document Service stores them: a published document is a
 * draft row (publishedAt null) plus a published row with the same documentId. Going through
 * the DB layer keeps dates and documentIds deterministic and emits no webhook events.
 */
async function seed(strapi, { articles: articleCount, authors: authorCount, drafts: draftCount }) {
  const done = await strapi.store.get(MARKER);
  if (done) return { skipped: true, reason: `already seeded (${JSON.stringify(done)})` };

  const existing = await strapi.db.query(ARTICLE).count();
  if (existing > 0) {
    return { skipped: true, reason: `${existing} article rows already exist; not seeding over real content` };
  }

  const started = performance.now();
  const authors = buildAuthors(authorCount);
  const articles = buildArticles(articleCount, authorCount);
  const drafts = buildDrafts(draftCount, authorCount);

  await strapi.db.transaction(async ({ trx }) => {
    // Authors have draft & publish off: one row each, published at creation.
    await strapi.db.query(AUTHOR).createMany({
      data: authors.map(({ documentId, name, slug, bio, createdAt, updatedAt }) => ({
        documentId,
        name,
        slug,
        bio,
        createdAt,
        updatedAt,
        publishedAt: createdAt,
      })),
    });
    const authorRows = await strapi.db.query(AUTHOR).findMany({
      select: ['id', 'documentId'],
      where: { documentId: { $in: authors.map((a) => a.documentId) } },
    });
    const authorIdByDoc = new Map(authorRows.map((row) => [row.documentId, row.id]));

    const rows = [];
    for (const article of [...articles, ...drafts]) {
      const { authorIndex, publishedAt, ...fields } = article;
      rows.push({ ...fields, publishedAt: null });
      if (publishedAt) rows.push({ ...fields, publishedAt });
    }
    for (let i = 0; i < rows.length; i += 200) {
      await strapi.db.query(ARTICLE).createMany({ data: rows.slice(i, i + 200) });
    }

    const articleRows = await strapi.db
      .query(ARTICLE)
      .findMany({ select: ['id', 'documentId'], orderBy: { id: 'asc' } });
    const authorDocByArticleDoc = new Map(
      [...articles, ...drafts].map((a) => [a.documentId, authors[a.authorIndex].documentId]),
    );

    // The article → author relation lives in a join table; its names come from Strapi's metadata.
    const { joinTable } = strapi.db.metadata.get(ARTICLE).attributes.author;
    const orderCounter = new Map();
    const links = articleRows.map((row) => {
      const authorId = authorIdByDoc.get(authorDocByArticleDoc.get(row.documentId));
      const link = {
        [joinTable.joinColumn.name]: row.id,
        [joinTable.inverseJoinColumn.name]: authorId,
      };
      if (joinTable.orderColumnName) link[joinTable.orderColumnName] = 1;
      if (joinTable.inverseOrderColumnName) {
        const next = (orderCounter.get(authorId) ?? 0) + 1;
        orderCounter.set(authorId, next);
        link[joinTable.inverseOrderColumnName] = next;
      }
      return link;
    });
    for (let i = 0; i < links.length; i += 200) {
      await strapi.db
        .connection(joinTable.name)
        .transacting(trx)
        .insert(links.slice(i, i + 200));
    }

    await strapi.store.set({
      ...MARKER,
      value: { version: SEED_VERSION, articles: articleCount, authors: authorCount, drafts: draftCount },
    });
  });

  return {
    skipped: false,
    authors: authors.length,
    articles: articles.length,
    drafts: drafts.length,
    ms: Math.round(performance.now() - started),
  };
}

module.exports = { seed, SEED_MARKER: MARKER };
