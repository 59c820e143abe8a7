'use strict';

const { str } = require('../src/lib/settings.js');

// "info" by default: a line per request ("http" level) is noise in the combined dev log and
// in load runs. CMS_LOG_LEVEL=http shows requests again; "warn" quiets boot messages.
module.exports = {
  level: str('CMS_LOG_LEVEL') ?? 'info',
};
