import {
  ApiError,
  addressKey,
  type RateLimitCount,
  type RateLimitPolicy,
  rateLimitHeader,
  rateLimitPolicyHeader,
  secondsLeft,
} from '@pilot/contracts';
import type { Redis } from 'ioredis';
import {
  type RateLimiterAbstract,
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
} from 'rate-limiter-flexible';

export interface LoginLimitOptions {
  /** Failed logins allowed per username and client address in one window (then 429). */
  perUserAddress: number;
  /** Failed logins allowed per client address, whatever the username, in one window. */
  perAddress: number;
  windowSeconds: number;
  /** Counters in Redis, shared by every instance (and both apps); else in this process. */
  redis?: Redis | undefined;
  /** Redis key prefix, default `pilot:login:`. */
  prefix?: string;
}

export interface LoginAttempt<T> {
  value: T;
  /** RateLimit and RateLimit-Policy for the success answer. */
  headers: Record<string, string>;
}

/**
 * The strict limit on POST /auth/login, the same in both apps: a failed login (401
 * INVALID_CREDENTIALS) counts against its username+address and against its address; over
 * either limit every attempt is a 429 RATE_LIMITED, the right password included, until the
 * window ends. A successful login clears its username+address counter and does not count
 * against the address.
 */
export interface LoginLimiter {
  attempt<T>(username: string, address: string, login: () => Promise<T>): Promise<LoginAttempt<T>>;
}

interface Policy {
  name: string;
  limiter: RateLimiterAbstract;
  quota: number;
}

export { addressKey };

/** Case and Unicode form do not make a new username (nor a new counter). */
const userKey = (username: string, address: string) =>
  `${addressKey(address)}|${username.normalize('NFKC').toLowerCase()}`;

function limiterFor(options: LoginLimitOptions, name: string, points: number): RateLimiterAbstract {
  const common = {
    keyPrefix: `${options.prefix ?? 'pilot:login:'}${name}`,
    points,
    duration: options.windowSeconds,
  };
  if (!options.redis) return new RateLimiterMemory(common);
  return new RateLimiterRedis({
    ...common,
    storeClient: options.redis,
    // with Redis away, count in this process instead of failing logins or letting them through
    rejectIfRedisNotReady: true,
    insuranceLimiter: new RateLimiterMemory(common),
  });
}

const counter = (state: RateLimiterRes | null, correction = 0): RateLimitCount =>
  state
    ? { consumed: state.consumedPoints + correction, msLeft: state.msBeforeNext }
    : { consumed: 0, msLeft: 0 };

export function createLoginLimiter(options: LoginLimitOptions): LoginLimiter {
  const policies: [Policy, Policy] = [
    {
      name: 'login-user-address',
      limiter: limiterFor(options, 'user', options.perUserAddress),
      quota: options.perUserAddress,
    },
    {
      name: 'login-address',
      limiter: limiterFor(options, 'address', options.perAddress),
      quota: options.perAddress,
    },
  ];
  const described: RateLimitPolicy[] = policies.map((p) => ({
    name: p.name,
    quota: p.quota,
    windowSeconds: options.windowSeconds,
  }));
  const policyHeader = rateLimitPolicyHeader(described);

  /** IETF draft-ietf-httpapi-ratelimit-headers: the policies and what is left of each. */
  function headers(counters: RateLimitCount[]): Record<string, string> {
    return { 'ratelimit-policy': policyHeader, ratelimit: rateLimitHeader(described, counters) };
  }

  return {
    async attempt(username, address, login) {
      const keys = [userKey(username, address), addressKey(address)];
      // counted before the password is checked, so concurrent guesses cannot all slip in
      const settled = await Promise.allSettled(policies.map((p, i) => p.limiter.consume(keys[i] as string)));
      const states = settled.map((s) => (s.status === 'fulfilled' ? s.value : s.reason));
      const failure = states.find((s) => !(s instanceof RateLimiterRes));
      if (failure) throw failure; // not a verdict: the store failed (and so did its insurance)
      const results = states as RateLimiterRes[];
      if (settled.some((s) => s.status === 'rejected')) {
        // refused unchecked: not a failure, so no other counter moves (the one that refused is
        // at its limit either way)
        await Promise.allSettled(
          policies.map((p, i) =>
            settled[i]?.status === 'fulfilled' ? p.limiter.reward(keys[i] as string) : null,
          ),
        );
        const counters = results.map((r, i) => counter(r, settled[i]?.status === 'fulfilled' ? -1 : 0));
        const limited = counters.filter((_c, i) => settled[i]?.status === 'rejected');
        const retryAfter = Math.max(1, ...limited.map((c) => secondsLeft(c.msLeft)));
        throw new ApiError('RATE_LIMITED', {
          message: 'Too many failed logins; retry later.',
          headers: { 'retry-after': String(retryAfter), ...headers(counters) },
        });
      }
      let value: Awaited<ReturnType<typeof login>>;
      try {
        value = await login();
      } catch (error) {
        if (error instanceof ApiError && error.code === 'INVALID_CREDENTIALS')
          throw new ApiError(error.code, { headers: headers(results.map((r) => counter(r))) });
        // not the client's failure (the session store is down): it does not count
        await Promise.allSettled(policies.map((p, i) => p.limiter.reward(keys[i] as string)));
        throw error;
      }
      const [user, byAddress] = policies;
      await Promise.allSettled([
        user.limiter.delete(keys[0] as string),
        byAddress.limiter.reward(keys[1] as string),
      ]);
      const addressAfter = await byAddress.limiter.get(keys[1] as string).catch(() => null);
      return { value, headers: headers([counter(null), counter(addressAfter)]) };
    },
  };
}
