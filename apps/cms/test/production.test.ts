import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * scripts/start.js with NODE_ENV=production refuses to start on missing or published secrets,
 * naming every one in one message, before Strapi is even loaded (so no Strapi boot here).
 */
const start = fileURLToPath(new URL('../scripts/start.js', import.meta.url));

function run(env: Record<string, string>) {
  const result = spawnSync(process.execPath, [start], {
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production', CMS_ADMIN: 'off', ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { code: result.status, stderr: result.stderr };
}

describe('cms in production', () => {
  it('with no secrets set: exit 78 and one message naming each required one', () => {
    const { code, stderr } = run({});
    expect(code).toBe(78);
    for (const name of [
      'APP_KEYS',
      'ADMIN_JWT_SECRET',
      'API_TOKEN_SALT',
      'TRANSFER_TOKEN_SALT',
      'ENCRYPTION_KEY',
    ])
      expect(stderr).toContain(`${name}: must be set in production`);
  });

  it('with the values compose used to ship: each named, without its value', () => {
    const { code, stderr } = run({
      APP_KEYS: 'compose-app-key-1,compose-app-key-2',
      ADMIN_JWT_SECRET: 'compose-admin-jwt-secret-change-me',
      API_TOKEN_SALT: 'compose-api-token-salt-change-me',
      TRANSFER_TOKEN_SALT: 'compose-transfer-token-salt-change-me',
      ENCRYPTION_KEY: 'compose-encryption-key-change-me',
      STRAPI_READ_TOKEN: 'local-read-token-0000000000000000000000000000000000000000',
      STRAPI_WRITE_TOKEN: 'replace-me-write-token',
      WEBHOOK_SECRET: 'local-webhook-secret',
      CMS_ADMIN_PASSWORD: 'Compose-admin-password-1',
    });
    expect(code).toBe(78);
    const named = stderr
      .split('\n')
      .filter((l) => l.startsWith('  - '))
      .map((l) => l.slice(4).split(':')[0]);
    expect(named).toEqual([
      'APP_KEYS',
      'ADMIN_JWT_SECRET',
      'API_TOKEN_SALT',
      'TRANSFER_TOKEN_SALT',
      'ENCRYPTION_KEY',
      'STRAPI_READ_TOKEN',
      'STRAPI_WRITE_TOKEN',
      'WEBHOOK_SECRET',
      'CMS_ADMIN_PASSWORD',
    ]);
    expect(stderr).not.toContain('change-me');
  });
});
