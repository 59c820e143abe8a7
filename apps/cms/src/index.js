'use strict';

const settings = require('./lib/settings.js');
const { seed } = require('./seed/index.js');
const { ensureTokens } = require('./bootstrap/tokens.js');
const { ensureWebhook, removeWebhook } = require('./bootstrap/webhook.js');
const { ensureAdminUser } = require('./bootstrap/admin-user.js');

module.exports = {
  register() {},

  /**
   * Runs on every boot, after Strapi's own bootstrap; every step is idempotent.
   * Order: seed first (while no webhook is registered on a fresh database), then tokens,
   * webhook and the admin user.
   */
  async bootstrap({ strapi }) {
    const log = (message) => strapi.log.info(`[cms] ${message}`);

    if (settings.isOff('CMS_SEED')) {
      log('seed: off (CMS_SEED=off)');
    } else {
      const result = await seed(strapi, {
        articles: settings.int('CMS_SEED_ARTICLES', 300),
        authors: Math.max(1, settings.int('CMS_SEED_AUTHORS', 12)),
        drafts: settings.int('CMS_SEED_DRAFTS', 3),
      });
      log(
        result.skipped
          ? `seed: skipped, ${result.reason}`
          : `seed: ${result.articles} published articles, ${result.drafts} drafts, ${result.authors} authors in ${result.ms} ms`,
      );
    }

    const tokens = await ensureTokens(strapi, settings.optionalSecret);
    log(`api tokens: ${tokens.join(', ') || 'none'}`);

    if (settings.isOff('CMS_WEBHOOK')) {
      await removeWebhook(strapi);
      log('webhook: off (CMS_WEBHOOK=off)');
    } else {
      const url = settings.str('MODERN_WEBHOOK_URL') ?? 'http://127.0.0.1:3002/webhooks/strapi';
      const secret = settings.optionalSecret('WEBHOOK_SECRET');
      if (!secret) {
        strapi.log.warn('[cms] WEBHOOK_SECRET is not set: webhook not registered');
      } else {
        const hook = await ensureWebhook(strapi, { url, secret });
        log(`webhook: ${hook.created ? 'registered' : 'updated'} -> ${url}`);
      }
    }

    if (strapi.config.get('admin.serveAdminPanel')) {
      const email = settings.optionalSecret('CMS_ADMIN_EMAIL');
      const password = settings.optionalSecret('CMS_ADMIN_PASSWORD');
      if (email && password) {
        const admin = await ensureAdminUser(strapi, { email, password });
        if (admin.created) log(`admin user created: ${email}`);
      }
    }
  },
};
