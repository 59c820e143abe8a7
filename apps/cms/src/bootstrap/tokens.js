'use strict';

/**
 * API tokens with known values (from env; local-only defaults outside production).
 *
 * Strapi only ever generates random keys, so we create the token through the admin
 * api-token service (which creates its permissions) and then store the HMAC of our known
 * key (hashed with API_TOKEN_SALT, as Strapi's own hash()) plus its encrypted copy. On every
 * boot the row is found by name and its key, type and permissions are brought up to date.
 */

const TOKENS = [
  {
    name: 'pilot-read',
    env: 'STRAPI_READ_TOKEN',
    description: 'Read-only: find/findOne on articles and authors (managed by apps/cms bootstrap).',
    permissions: [
      'api::article.article.find',
      'api::article.article.findOne',
      'api::author.author.find',
      'api::author.author.findOne',
    ],
  },
  {
    name: 'pilot-write',
    env: 'STRAPI_WRITE_TOKEN',
    description:
      'Writes: create subscribers (+ find, for duplicate handling) (managed by apps/cms bootstrap).',
    permissions: ['api::subscriber.subscriber.create', 'api::subscriber.subscriber.find'],
  },
  {
    // Only when STRAPI_FULL_ACCESS_TOKEN is set (the test helper sets a random one); no default.
    name: 'pilot-full-access',
    env: 'STRAPI_FULL_ACCESS_TOKEN',
    type: 'full-access',
    optional: true,
    description: 'Full access for end-to-end tests and scripts (managed by apps/cms bootstrap).',
    permissions: [],
  },
];

async function ensureToken(strapi, spec, accessKey) {
  const service = strapi.service('admin::api-token-content-api') ?? strapi.service('admin::api-token');
  const type = spec.type ?? 'custom';
  const permissions = type === 'custom' ? spec.permissions : undefined;
  const attributes = { name: spec.name, description: spec.description, type, permissions, lifespan: null };
  const existing = await strapi.db.query('admin::api-token').findOne({ where: { name: spec.name } });
  let id;
  if (existing) {
    id = existing.id;
    await service.update(id, { description: spec.description, type, permissions });
  } else {
    const created = await service.create(attributes);
    id = created.id;
  }
  const encryptedKey = strapi.service('admin::encryption').encrypt(accessKey);
  await strapi.db.query('admin::api-token').update({
    where: { id },
    data: { accessKey: service.hash(accessKey), encryptedKey },
  });
  return id;
}

async function removeToken(strapi, name) {
  const existing = await strapi.db.query('admin::api-token').findOne({ where: { name } });
  if (existing) await strapi.service('admin::api-token-content-api').revoke(existing.id);
}

async function ensureTokens(strapi, readKey) {
  const results = [];
  for (const spec of TOKENS) {
    const key = readKey(spec.env);
    if (!key) {
      // A token whose value is no longer configured must not keep working.
      await removeToken(strapi, spec.name);
      if (!spec.optional)
        strapi.log.warn(`[cms] ${spec.env} is not set: token "${spec.name}" not provisioned`);
      continue;
    }
    await ensureToken(strapi, spec, key);
    results.push(spec.name);
  }
  return results;
}

module.exports = { ensureTokens, ensureToken, TOKENS };
