'use strict';

const { secret, int, str } = require('../src/lib/settings.js');

module.exports = () => ({
  // 127.0.0.1 by default: nothing on this machine needs it on other interfaces (containers set CMS_HOST=0.0.0.0).
  host: str('CMS_HOST') ?? str('HOST') ?? '127.0.0.1',
  // 0 = an ephemeral port (the test helper uses it and reads the real one back over IPC).
  port: int('CMS_PORT', int('PORT', 1337)),
  url: str('CMS_PUBLIC_URL') ?? '',
  app: {
    keys: secret('APP_KEYS').split(','),
  },
  // No update checks: Strapi would ask the npm registry for its latest version at every start.
  logger: {
    updates: { enabled: false },
    startup: { enabled: str('CMS_STARTUP_BANNER') === 'on' },
  },
  webhooks: {
    // Payloads carry the entry's own fields; relations are not populated (cheaper, and the
    // consumer only needs model + documentId + slug to invalidate).
    populateRelations: false,
  },
  transfer: {
    remote: { enabled: false },
  },
  cron: { enabled: false },
});
