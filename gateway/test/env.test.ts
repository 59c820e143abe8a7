import { describe, expect, it } from 'vitest';
import { readEnv } from '../src/env.ts';

describe('readEnv in production', () => {
  it('refuses an admin token this repository publishes, or a short one, naming the variable', () => {
    for (const token of [
      'local-admin-token',
      'compose-admin-token-change-me',
      'replace-me-gateway-admin-token',
    ]) {
      expect(() => readEnv({ NODE_ENV: 'production', GATEWAY_ADMIN_TOKEN: token })).toThrow(
        /GATEWAY_ADMIN_TOKEN: is a demo or placeholder value/,
      );
    }
    expect(() => readEnv({ NODE_ENV: 'production', GATEWAY_ADMIN_TOKEN: 'Zq81-short' })).toThrow(
      /GATEWAY_ADMIN_TOKEN: must be at least 24 characters/,
    );
  });

  it('names every problem in one message', () => {
    expect(() =>
      readEnv({ NODE_ENV: 'production', GATEWAY_PORT: 'eighty', GATEWAY_ADMIN_TOKEN: 'local-admin-token' }),
    ).toThrow(/GATEWAY_PORT[\s\S]*GATEWAY_ADMIN_TOKEN/);
  });

  it('starts with a token of its own, or with none (the admin API is then off)', () => {
    const token = 'k3Vd9-xLr4T-zYp8W-mK1sH-b6GfA';
    expect(readEnv({ NODE_ENV: 'production', GATEWAY_ADMIN_TOKEN: token }).GATEWAY_ADMIN_TOKEN).toBe(token);
    expect(readEnv({ NODE_ENV: 'production' }).GATEWAY_ADMIN_TOKEN).toBeUndefined();
  });

  it('outside production the local token is fine', () => {
    expect(readEnv({ GATEWAY_ADMIN_TOKEN: 'local-admin-token' }).GATEWAY_ADMIN_TOKEN).toBe(
      'local-admin-token',
    );
  });
});
