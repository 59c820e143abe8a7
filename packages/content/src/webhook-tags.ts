import type { StrapiWebhookPayload } from '@pilot/contracts';

/** Strapi model (singular name or uid) → plural API id, which the cache tags use. */
const PLURALS: Record<string, string> = {
  article: 'articles',
  author: 'authors',
  subscriber: 'subscribers',
};

/** Content types whose documents are embedded in articles (a rename must reach article caches). */
const EMBEDDED_IN_ARTICLES = new Set(['authors']);

const ENTRY_EVENTS = new Set([
  'entry.create',
  'entry.update',
  'entry.delete',
  'entry.publish',
  'entry.unpublish',
]);

export const typeTag = (type: string) => `type:${type}`;
export const docTag = (type: string, documentId: string) => `doc:${type}:${documentId}`;

function pluralOf(payload: StrapiWebhookPayload): string | null {
  const fromUid = payload.uid?.match(/^api::([a-z0-9-]+)\.([a-z0-9-]+)$/)?.[2];
  const model = (payload.model ?? fromUid)?.toLowerCase();
  if (!model || !/^[a-z0-9-]+$/.test(model)) return null;
  return PLURALS[model] ?? (model.endsWith('s') ? model : `${model}s`);
}

/**
 * The cache tags a Strapi webhook affects:
 * - every entry.* event drops `type:<type>` (lists, and lookups that found nothing) and, when
 *   the payload names a documentId, `doc:<type>:<documentId>` (that document's lookups);
 * - a change to an author also drops `type:articles`, because article lists embed authors
 *   (single-article lookups carry their author's doc tag);
 * - anything else (media.*, unknown models) drops nothing.
 * Lookups of other documents (e.g. GET /articles/<another slug>) stay cached.
 */
export function webhookTags(payload: StrapiWebhookPayload): string[] {
  if (!ENTRY_EVENTS.has(payload.event)) return [];
  const type = pluralOf(payload);
  if (!type) return [];
  const tags = [typeTag(type)];
  const documentId = payload.entry?.documentId;
  if (documentId) tags.push(docTag(type, documentId));
  if (EMBEDDED_IN_ARTICLES.has(type)) tags.push(typeTag('articles'));
  return tags;
}
