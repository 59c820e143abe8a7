import { docTag, typeTag } from './tags.ts';

/** The part of a Strapi 5 webhook body this helper reads (`entry.*` and `media.*` events). */
export interface StrapiWebhookPayload {
  event?: string;
  /** Singular model name, e.g. `article`. */
  model?: string;
  /** Content-type UID, e.g. `api::article.article`. */
  uid?: string;
  entry?: { documentId?: string | null } | null;
}

/**
 * Which cache tags a Strapi webhook should invalidate. `resolveType` maps the payload's `uid`
 * (or `model`) to the plural API id the client uses (`api::article.article` → `articles`);
 * return undefined for types you don't cache. Rules:
 * - `entry.create|update|delete|publish|unpublish` → `type:<type>` (lists, empty lookups) and
 *   `doc:<type>:<documentId>` (anything that contained the document);
 * - anything else (media, unknown types) → no tags.
 */
export function webhookTags(
  payload: StrapiWebhookPayload,
  resolveType: (uidOrModel: string) => string | undefined,
): string[] {
  const event = payload.event ?? '';
  if (!/^entry\.(create|update|delete|publish|unpublish)$/.test(event)) return [];
  const type = (payload.uid && resolveType(payload.uid)) || (payload.model && resolveType(payload.model));
  if (!type) return [];
  const tags = [typeTag(type)];
  const documentId = payload.entry?.documentId;
  if (typeof documentId === 'string' && documentId) tags.push(docTag(type, documentId));
  return tags;
}
