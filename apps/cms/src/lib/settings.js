'use strict';

/**
 * Every environment variable apps/cms reads, in one place, with its local-only default.
 * Config files (config/*.js), the bootstrap (src/index.js) and scripts/start.js use it.
 *
 * Local defaults are obvious placeholders for a developer machine. With NODE_ENV=production
 * a missing secret is an error (never a silent default).
 */

const isProduction = () => process.env.NODE_ENV === 'production';

/** Local-only defaults: public knowledge, never valid anywhere but a developer machine. */
const LOCAL_DEFAULTS = Object.freeze({
  APP_KEYS: 'local-app-key-1,local-app-key-2',
  ADMIN_JWT_SECRET: 'local-admin-jwt-secret',
  API_TOKEN_SALT: 'local-api-token-salt',
  TRANSFER_TOKEN_SALT: 'local-transfer-token-salt',
  ENCRYPTION_KEY: 'local-encryption-key',
  STRAPI_READ_TOKEN: 'local-read-token-0000000000000000000000000000000000000000',
  STRAPI_WRITE_TOKEN: 'local-write-token-0000000000000000000000000000000000000000',
  WEBHOOK_SECRET: 'local-webhook-secret',
  CMS_ADMIN_EMAIL: 'admin@pilot.local',
  CMS_ADMIN_PASSWORD: 'Local-admin-password-1',
});

const str = (name) => {
  const value = process.env[name];
  return value === undefined || value === '' ? undefined : value;
};

/** A secret: env, else the local default; in production a missing one throws. */
const secret = (name) => {
  const value = str(name);
  if (value !== undefined) return value;
  if (isProduction()) {
    throw new Error(`[cms] ${name} is required when NODE_ENV=production (see apps/cms/README.md)`);
  }
  return LOCAL_DEFAULTS[name];
};

/** A credential that is optional in production: env, else the local default, else (production) undefined. */
const optionalSecret = (name) => {
  const value = str(name);
  if (value !== undefined) return value;
  return isProduction() ? undefined : LOCAL_DEFAULTS[name];
};

/**
 * Credentials this repository publishes besides LOCAL_DEFAULTS: the values docker-compose.yml
 * and deploy/k8s used to ship. Public knowledge, like anything that says change-me/replace-me.
 */
const PUBLISHED = new Set([
  ...Object.values(LOCAL_DEFAULTS),
  ...LOCAL_DEFAULTS.APP_KEYS.split(','),
  'compose-app-key-1',
  'compose-app-key-2',
  'compose-admin-jwt-secret-change-me',
  'compose-api-token-salt-change-me',
  'compose-transfer-token-salt-change-me',
  'compose-encryption-key-change-me',
  'compose-read-token-0000000000000000000000000000000000',
  'compose-write-token-000000000000000000000000000000000',
  'compose-demo-webhook-secret-change-me',
  'Compose-admin-password-1',
]);
const PLACEHOLDER = /(?:change|replace)[-_ ]?me|placeholder/i;
const published = (value) => PUBLISHED.has(value) || PLACEHOLDER.test(value);

/** Required in production (Strapi cannot run without them). */
const PRODUCTION_SECRETS = [
  'APP_KEYS',
  'ADMIN_JWT_SECRET',
  'API_TOKEN_SALT',
  'TRANSFER_TOKEN_SALT',
  'ENCRYPTION_KEY',
];
/** Optional in production (unset: that token, the webhook or the admin user is not provisioned). */
const PRODUCTION_OPTIONAL = [
  'STRAPI_READ_TOKEN',
  'STRAPI_WRITE_TOKEN',
  'WEBHOOK_SECRET',
  'CMS_ADMIN_PASSWORD',
];

/**
 * With NODE_ENV=production: one line per variable that is missing or holds a published value
 * (scripts/start.js prints them all and refuses to start). Empty otherwise.
 */
const productionProblems = (env = process.env) => {
  if (env.NODE_ENV !== 'production') return [];
  const problems = [];
  const read = (name) => (env[name] === undefined || env[name] === '' ? undefined : env[name]);
  for (const name of [...PRODUCTION_SECRETS, ...PRODUCTION_OPTIONAL]) {
    const value = read(name);
    if (value === undefined) {
      if (PRODUCTION_SECRETS.includes(name)) problems.push(`${name}: must be set in production`);
    } else if (value.split(',').some((part) => published(part.trim())) || published(value)) {
      problems.push(
        `${name}: is a demo or placeholder value published in this repository; set a secret of your own`,
      );
    }
  }
  return problems;
};

const isOff = (name) => ['off', 'false', '0', 'no'].includes(String(str(name) ?? '').toLowerCase());
const isOn = (name) => ['on', 'true', '1', 'yes'].includes(String(str(name) ?? '').toLowerCase());

const int = (name, fallback) => {
  const value = str(name);
  if (value === undefined) return fallback;
  const parsed = Number.parseInt(value, 10);
  if (!Number.isFinite(parsed) || parsed < 0)
    throw new Error(`[cms] ${name} must be a non-negative integer, got "${value}"`);
  return parsed;
};

/** CMS_ADMIN: "on" (admin required), "off" (API only), unset/"auto" (admin when built). Resolved by scripts/start.js. */
const adminMode = () => {
  if (isOff('CMS_ADMIN')) return 'off';
  if (isOn('CMS_ADMIN')) return 'on';
  return 'auto';
};

module.exports = {
  LOCAL_DEFAULTS,
  isProduction,
  productionProblems,
  str,
  secret,
  optionalSecret,
  isOff,
  isOn,
  int,
  adminMode,
};
