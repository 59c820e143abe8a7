/**
 * What production refuses: every credential this repository ships (the services' local
 * defaults, the values docker-compose.yml and deploy/k8s used to carry, the test helpers') is
 * public knowledge, so with NODE_ENV=production none of them may be in use, and the required
 * ones must be set. Checked on the raw environment, so one start-up message names every
 * offending variable at once.
 */

export const LOCAL_DEFAULTS = {
  JWT_SECRET: 'local-dev-jwt-secret-change-me-0123456789abcdef',
  STRAPI_READ_TOKEN: 'local-read-token-0000000000000000000000000000000000000000',
  STRAPI_WRITE_TOKEN: 'local-write-token-0000000000000000000000000000000000000000',
  AUTH_USERS: 'demo:demo-password:Demo User',
} as const;

/** Secrets that appear in this repository, in any of its files or in its history. */
const PUBLISHED_SECRETS = new Set<string>([
  ...Object.values(LOCAL_DEFAULTS),
  'compose-demo-jwt-secret-change-me-0123456789abcdef',
  'compose-read-token-0000000000000000000000000000000000',
  'compose-write-token-000000000000000000000000000000000',
  'compose-demo-webhook-secret-change-me',
  'local-webhook-secret',
  'replace-me-with-at-least-32-random-characters',
  'replace-me-with-a-random-webhook-secret',
  'replace-me-read-token',
  'replace-me-write-token',
  'test-webhook-secret-0123456789',
  'test-webhook-hmac-secret-0123456789',
  'bench-jwt-secret-0123456789abcdef-0123',
]);

/** Passwords of the demo and test users: `demo-password`, `ann-password`… */
const DEMO_PASSWORD = /^[a-z]+-password$/;
/** What a template or an example says instead of a secret. */
const PLACEHOLDER = /(?:change|replace)[-_ ]?me|placeholder|your[-_ ]?secret/i;
const MIN_PASSWORD_LENGTH = 12;

function isPublished(value: string): boolean {
  return PUBLISHED_SECRETS.has(value) || PLACEHOLDER.test(value);
}

const set = (env: Record<string, string | undefined>, name: string) => {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
};

/**
 * One line per offending variable (name first), empty when the environment is fit for
 * production. Only called with NODE_ENV=production.
 */
export function productionProblems(env: Record<string, string | undefined>): string[] {
  const problems: string[] = [];
  const required = ['JWT_SECRET', 'STRAPI_READ_TOKEN', 'STRAPI_WRITE_TOKEN'] as const;
  for (const name of required) {
    const value = set(env, name);
    if (value === undefined)
      problems.push(`${name}: must be set in production (the default is a public demo value)`);
    else if (isPublished(value))
      problems.push(
        `${name}: is a demo or placeholder value published in this repository; set a secret of your own`,
      );
  }
  // optional: unset, the webhook refuses every sender
  for (const name of ['WEBHOOK_SECRET', 'WEBHOOK_HMAC_SECRET']) {
    const value = set(env, name);
    if (value !== undefined && isPublished(value))
      problems.push(
        `${name}: is a demo or placeholder value published in this repository; set a secret of your own`,
      );
  }
  const users = set(env, 'AUTH_USERS');
  if (users === undefined) {
    problems.push('AUTH_USERS: must be set in production (the default is the public demo user)');
  } else {
    const weak = users
      .split(',')
      .map((entry) => entry.trim().split(':'))
      .filter(([, password]) => password !== undefined)
      .filter(
        ([, password = '']) =>
          DEMO_PASSWORD.test(password) || isPublished(password) || password.length < MIN_PASSWORD_LENGTH,
      )
      .map(([username]) => username);
    if (weak.length > 0)
      problems.push(
        `AUTH_USERS: ${weak.join(', ')} ${weak.length === 1 ? 'has' : 'have'} a demo password or one shorter than ${MIN_PASSWORD_LENGTH} characters`,
      );
  }
  if (set(env, 'TRUST_PROXY')?.trim().toLowerCase() === 'true')
    problems.push(
      "TRUST_PROXY: 'true' believes any client's X-Forwarded-For (per-address login limits become free to dodge); name the proxies' addresses or a hop count",
    );
  return problems;
}
