'use strict';

const WEBHOOK_NAME = 'pilot-modern-cache-invalidation';
const WEBHOOK_EVENTS = ['entry.create', 'entry.update', 'entry.delete', 'entry.publish', 'entry.unpublish'];

/**
 * Registers (or updates) the webhook that tells the services to drop cached content.
 * Strapi sends it for every content type (the consumer filters on `model`/`uid`); it neither
 * signs nor retries, so the shared secret header is the sender check and TTLs the backstop.
 */
async function ensureWebhook(strapi, { url, secret }) {
  const store = strapi.get('webhookStore');
  const runner = strapi.get('webhookRunner');
  const data = {
    name: WEBHOOK_NAME,
    url,
    headers: { 'x-webhook-secret': secret },
    events: WEBHOOK_EVENTS,
    isEnabled: true,
  };
  const matches = (await store.findWebhooks()).filter((w) => w.name === WEBHOOK_NAME);
  const [current, ...duplicates] = matches;
  for (const duplicate of duplicates) {
    await store.deleteWebhook(duplicate.id);
    runner.remove(duplicate);
  }
  if (current) {
    const updated = await store.updateWebhook(current.id, data);
    runner.update(updated);
    return { id: updated.id, created: false };
  }
  const created = await store.createWebhook(data);
  runner.add(created);
  return { id: created.id, created: true };
}

/** CMS_WEBHOOK=off: remove ours so a stale registration does not keep firing. */
async function removeWebhook(strapi) {
  const store = strapi.get('webhookStore');
  const runner = strapi.get('webhookRunner');
  for (const hook of (await store.findWebhooks()).filter((w) => w.name === WEBHOOK_NAME)) {
    await store.deleteWebhook(hook.id);
    runner.remove(hook);
  }
}

module.exports = { ensureWebhook, removeWebhook, WEBHOOK_NAME, WEBHOOK_EVENTS };
