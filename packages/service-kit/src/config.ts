import ipaddr from 'ipaddr.js';
import { z } from 'zod';
import { LOCAL_DEFAULTS, productionProblems } from './production.ts';

/**
 * Configuration shared by both services, read once from the environment at start-up.
 * Everything has an embedded default that runs the local stack; with NODE_ENV=production those
 * defaults (and every other secret published in this repository) are refused: see
 * production.ts.
 */
const optionalUrl = z.preprocess((v) => (v === '' ? undefined : v), z.url().optional());
const intFrom = (fallback: number, min = 1, max = 3_600_000) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

/** proxy-addr's names for address ranges (Express and Fastify both compile TRUST_PROXY with it). */
const TRUST_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

function isAddressOrRange(entry: string): boolean {
  if (TRUST_NAMES.has(entry) || ipaddr.isValid(entry)) return true;
  try {
    ipaddr.parseCIDR(entry);
    return true;
  } catch {
    return false;
  }
}

/**
 * Which peers may tell the client's address in X-Forwarded-For (the gateway, a load balancer):
 * `false`, a hop count, or a comma-separated list of addresses, CIDR ranges and proxy-addr's
 * names. Both apps hand it to their framework ('trust proxy' / trustProxy), so req.ip, the
 * request log and the per-address login limit see the same client.
 */
const TrustProxy = z
  .string()
  .default('loopback')
  .transform((value, ctx): boolean | number | string[] => {
    const text = value.trim().toLowerCase();
    if (text === 'false' || text === '') return false;
    if (text === 'true') return true;
    if (/^\d{1,2}$/.test(text)) return Number(text);
    const entries = text
      .split(',')
      .map((entry) => entry.trim())
      .filter(Boolean);
    const bad = entries.filter((entry) => !isAddressOrRange(entry));
    if (bad.length > 0)
      ctx.addIssue({
        code: 'custom',
        message: `not an address, a CIDR range, a hop count or one of ${[...TRUST_NAMES].join('/')}: ${bad.join(', ')}`,
      });
    return entries;
  });

export const ServiceEnv = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65_535).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  STRAPI_URL: z.url().default('http://127.0.0.1:1337'),
  STRAPI_READ_TOKEN: z.string().min(1).default(LOCAL_DEFAULTS.STRAPI_READ_TOKEN),
  STRAPI_WRITE_TOKEN: z.string().min(1).default(LOCAL_DEFAULTS.STRAPI_WRITE_TOKEN),
  STRAPI_TIMEOUT_MS: intFrom(3_000),
  REDIS_URL: optionalUrl,
  CACHE_TTL_MS: intFrom(30_000),
  CACHE_GRACE_MS: intFrom(300_000, 0),
  /** Entries in each instance's in-process cache (L1); 0 = none, every read asks Redis. */
  CACHE_L1_MAX_ITEMS: intFrom(5_000, 0, 10_000_000),
  JWT_SECRET: z.string().min(32, 'must be at least 32 characters').default(LOCAL_DEFAULTS.JWT_SECRET),
  JWT_ISSUER: z.string().min(1).default('migration-pilot'),
  AUTH_USERS: z
    .string()
    .default(LOCAL_DEFAULTS.AUTH_USERS)
    .describe('Comma-separated username:password:Display Name entries (demo users).'),
  /** POST /auth/login: failed attempts per username+address, per address, and their window. */
  LOGIN_LIMIT_PER_USER: intFrom(5, 1, 1_000_000),
  LOGIN_LIMIT_PER_ADDRESS: intFrom(100, 1, 1_000_000),
  LOGIN_LIMIT_WINDOW_SECONDS: intFrom(900, 1, 86_400),
  TRUST_PROXY: TrustProxy,
  WEBHOOK_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  WEBHOOK_HMAC_SECRET: z.string().min(16, 'must be at least 16 characters').optional(),
  AGGREGATE_WEATHER_URL: z.url().default('http://127.0.0.1:3090/weather'),
  AGGREGATE_QUOTE_URL: z.url().default('http://127.0.0.1:3090/quote'),
  AGGREGATE_TIMEOUT_MS: intFrom(2_000),
  SHUTDOWN_TIMEOUT_MS: intFrom(10_000),
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
 * Validates the environment once. Throws ConfigError naming every bad variable (with
 * NODE_ENV=production, every demo secret too), so a misconfigured service refuses to start
 * with one readable message.
 */
export function loadServiceConfig(
  env: Record<string, string | undefined>,
  defaults: { port: number },
): ServiceConfig {
  const problems: string[] = [];
  const result = ServiceEnv.safeParse(env);
  if (!result.success)
    problems.push(...result.error.issues.map((i) => `${i.path.join('.') || 'env'}: ${i.message}`));
  const users = parseUsers(result.data?.AUTH_USERS ?? env.AUTH_USERS ?? LOCAL_DEFAULTS.AUTH_USERS);
  if (typeof users === 'string') problems.push(`AUTH_USERS: ${users}`);
  if (env.NODE_ENV === 'production') {
    // one line per variable: a value both invalid and published is named once
    const named = new Set(problems.map((p) => p.split(':')[0]));
    problems.push(...productionProblems(env).filter((p) => !named.has(p.split(':')[0])));
  }
  if (problems.length > 0 || !result.success || typeof users === 'string') throw new ConfigError(problems);
  return { ...result.data, PORT: result.data.PORT ?? defaults.port, AUTH_USERS: users };
}
