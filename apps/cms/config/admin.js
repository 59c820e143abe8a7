'use strict';

const { secret } = require('../src/lib/settings.js');

module.exports = () => ({
  // scripts/start.js resolves CMS_ADMIN (on/off/auto) to CMS_SERVE_ADMIN before Strapi loads.
  serveAdminPanel: process.env.CMS_SERVE_ADMIN !== 'false',
  autoOpen: false,
  auth: {
    secret: secret('ADMIN_JWT_SECRET'),
  },
  apiToken: {
    salt: secret('API_TOKEN_SALT'),
  },
  transfer: {
    token: { salt: secret('TRANSFER_TOKEN_SALT') },
  },
  secrets: {
    encryptionKey: secret('ENCRYPTION_KEY'),
  },
  // No outbound calls and no nags from the admin panel.
  flags: {
    nps: false,
    promoteEE: false,
  },
  ai: { enabled: false },
});
