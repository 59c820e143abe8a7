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
  str,
  secret,
  optionalSecret,
  isOff,
  isOn,
  int,
  adminMode,
};
