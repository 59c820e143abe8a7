import { z } from 'zod';

/**
 * Configuration shared by both services, read once from the environment at start-up.
 * Everything has an embedded default that runs the local stack; production must set the
 * secrets (checked below).
 */
const DEV_JWT_SECRET = 'local-dev-jwt-secret-change-me-0123456789abcdef';

const optionalUrl = z.preprocess((v) => (v === '' ? undefined : v), z.url().optional());
const intFrom = (fallback: number, min = 1, max = 3_600_000) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

export const ServiceEnv = z
  .object({
    NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
    HOST: z.string().min(1).default('127.0.0.1'),
    PORT: z.coerce.number().int().min(0).max(65_535).optional(),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    STRAPI_URL: z.url().default('http://127.0.0.1:1337'),
    STRAPI_READ_TOKEN: z.string().min(1).default('local-read-token-0000000000000000000000000000000000000000'),
    STRAPI_WRITE_TOKEN: z
      .string()
      .min(1)
      .default('local-write-token-0000000000000000000000000000000000000000'),
    STRAPI_TIMEOUT_MS: intFrom(3_000),
    REDIS_URL: optionalUrl,
    CACHE_TTL_MS: intFrom(30_000),
    CACHE_GRACE_MS: intFrom(300_000, 0),
    JWT_SECRET: z.string().min(32, 'must be at least 32 characters').default(DEV_JWT_SECRET),
    JWT_ISSUER: z.string().min(1).default('migration-pilot'),
    AUTH_USERS: z
      .string()
      .default('demo:demo-password:Demo User')
      .describe('Comma-separated username:password:Display Name entries (demo users).'),
    WEBHOOK_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
    WEBHOOK_HMAC_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
    AGGREGATE_WEATHER_URL: z.url().default('http://127.0.0.1:3090/weather'),
    AGGREGATE_QUOTE_URL: z.url().default('http://127.0.0.1:3090/quote'),
    AGGREGATE_TIMEOUT_MS: intFrom(2_000),
    SHUTDOWN_TIMEOUT_MS: intFrom(10_000),
  })
  .superRefine((env, ctx) => {
    if (env.NODE_ENV === 'production' && env.JWT_SECRET === DEV_JWT_SECRET) {
      ctx.addIssue({ code: 'custom', path: ['JWT_SECRET'], message: 'must be set in production' });
    }
  });

export type ServiceEnv = z.infer<typeof ServiceEnv>;

export interface DemoUser {
  id: string;
  username: string;
  password: string;
  name: string;
}

export interface ServiceConfig extends Omit<ServiceEnv, 'PORT' | 'AUTH_USERS'> {
  PORT: number;
  AUTH_USERS: DemoUser[];
}

export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

function parseUsers(spec: string): DemoUser[] | string {
  const users: DemoUser[] = [];
  for (const entry of spec
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [username, password, name] = entry.split(':');
    if (!username || !password) return `entry "${username ?? entry}" needs username:password[:name]`;
    users.push({ id: `user-${username}`, username, password, name: name || username });
  }
  return users.length > 0 ? users : 'needs at least one user';
}

/**
 * Validates the environment once. Throws ConfigError naming every bad variable, so a
 * misconfigured service refuses to start with one readable message.
 */
export function loadServiceConfig(
  env: Record<string, string | undefined>,
  defaults: { port: number },
): ServiceConfig {
  const result = ServiceEnv.safeParse(env);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((i) => `${i.path.join('.') || 'env'}: ${i.message}`));
  }
  const users = parseUsers(result.data.AUTH_USERS);
  if (typeof users === 'string') throw new ConfigError([`AUTH_USERS: ${users}`]);
  return { ...result.data, PORT: result.data.PORT ?? defaults.port, AUTH_USERS: users };
}
