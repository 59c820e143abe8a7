import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/** The only place that reads process.env: validated, with the defaults documented in README.md. */
export const DEFAULT_ROUTES_FILE = fileURLToPath(new URL('../routes.yaml', import.meta.url));

const port = z.coerce.number().int().min(0).max(65535);
const bool = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off'])
  .transform((v) => ['1', 'true', 'yes', 'on'].includes(v));

export const envSchema = z.object({
  GATEWAY_ROUTES: z.string().min(1).default(DEFAULT_ROUTES_FILE),
  GATEWAY_PORT: port.default(8080),
  GATEWAY_HOST: z.string().default('0.0.0.0'),
  GATEWAY_ADMIN_PORT: port.default(8081),
  GATEWAY_ADMIN_HOST: z.string().default('127.0.0.1'),
  GATEWAY_ADMIN_TOKEN: z.string().optional(),
  GATEWAY_WORKERS: z.union([z.literal('auto'), z.coerce.number().int().min(0).max(256)]).default(1),
  GATEWAY_WRITE_BACK: bool.default(true),
  GATEWAY_ACCESS_LOG: bool.default(true),
  GATEWAY_HEALTH_CHECKS: bool.default(true),
  GATEWAY_SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).default(10_000),
  GATEWAY_MAX_HEADER_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(16 * 1024),
  GATEWAY_REDIS_PREFIX: z.string().default('pilot:gateway:'),
  REDIS_URL: z.string().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  // LEGACY_URL / MODERN_URL are read through the table's `urlEnv` fields.
});
export type GatewayEnv = z.output<typeof envSchema>;

/** Admin tokens this repository publishes (./pilot start, compose, manifests, tests): public knowledge. */
const PUBLISHED_ADMIN_TOKENS = new Set([
  'local-admin-token',
  'compose-admin-token-change-me',
  'replace-me-gateway-admin-token',
  'e2e-admin-token',
]);
const PLACEHOLDER = /(?:change|replace)[-_ ]?me|placeholder/i;
const MIN_ADMIN_TOKEN_LENGTH = 24;

/**
 * With NODE_ENV=production the admin token (which can move all traffic) must be a secret of
 * one's own: unset disables the admin API, a published or short one is refused.
 */
function productionProblems(env: NodeJS.ProcessEnv): string[] {
  const token = env.GATEWAY_ADMIN_TOKEN;
  if (env.NODE_ENV !== 'production' || !token) return [];
  if (PUBLISHED_ADMIN_TOKENS.has(token) || PLACEHOLDER.test(token))
    return [
      'GATEWAY_ADMIN_TOKEN: is a demo or placeholder value published in this repository; set a secret of your own',
    ];
  if (token.length < MIN_ADMIN_TOKEN_LENGTH)
    return [`GATEWAY_ADMIN_TOKEN: must be at least ${MIN_ADMIN_TOKEN_LENGTH} characters in production`];
  return [];
}

export function readEnv(env: NodeJS.ProcessEnv = process.env): GatewayEnv {
  const result = envSchema.safeParse(
    Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== '')),
  );
  const problems = [
    ...(result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`)),
    ...productionProblems(env),
  ];
  if (problems.length > 0 || !result.success) {
    throw new Error(`invalid gateway environment\n${problems.map((p) => `  ${p}`).join('\n')}`);
  }
  return result.data;
}
