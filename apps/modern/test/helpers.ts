import { createAuthService } from '@pilot/auth';
import { createMemoryContent, type MemoryContent } from '@pilot/content';
import { createLogger, loadServiceConfig, type ServiceConfig } from '@pilot/service-kit';
import type { AppDeps } from '../src/deps.ts';

export const WEBHOOK_SECRET = 'test-webhook-secret-0123456789';
export const WEBHOOK_HMAC_SECRET = 'test-webhook-hmac-secret-0123456789';

export function testConfig(env: Record<string, string | undefined> = {}): ServiceConfig {
  return loadServiceConfig(
    {
      NODE_ENV: 'test',
      LOG_LEVEL: 'silent',
      WEBHOOK_SECRET,
      WEBHOOK_HMAC_SECRET,
      AGGREGATE_WEATHER_URL: 'http://127.0.0.1:9/weather',
      AGGREGATE_QUOTE_URL: 'http://127.0.0.1:9/quote',
      AGGREGATE_TIMEOUT_MS: '2000',
      ...env,
    },
    { port: 0 },
  );
}

export interface TestDeps extends AppDeps {
  content: MemoryContent;
}

/** Memory content, the real auth service (in-memory refresh store), a silent logger, no load shedding. */
export function testDeps(
  options: { env?: Record<string, string | undefined>; content?: MemoryContent } & Partial<AppDeps> = {},
): TestDeps {
  const { env, content, ...rest } = options;
  const config = testConfig(env);
  return {
    config,
    logger: createLogger({ service: 'modern', level: config.LOG_LEVEL }),
    content: content ?? createMemoryContent(),
    auth: createAuthService({
      users: config.AUTH_USERS,
      jwtSecret: config.JWT_SECRET,
      issuer: config.JWT_ISSUER,
    }),
    tuning: { underPressure: false },
    ...rest,
  };
}
