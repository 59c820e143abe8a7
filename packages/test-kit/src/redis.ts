import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

export const TEST_REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface TestRedis {
  url: string;
  /** Unique per call: every key a test writes starts with it, so files run in parallel. */
  prefix: string;
  client: Redis;
  /** Deletes every key under the prefix and closes the client. */
  cleanup(): Promise<void>;
}

/**
 * A real Redis connection for an integration test. Fails loudly (never skips) when Redis
 * is not reachable: .ci/run guarantees one, and a silent skip would count as a pass.
 */
export async function useTestRedis(label = 'test'): Promise<TestRedis> {
  const prefix = `pilot-test:${label}:${randomBytes(4).toString('hex')}:`;
  const client = new Redis(TEST_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    client.disconnect();
    throw new Error(
      `Redis is required for this test and did not answer at ${TEST_REDIS_URL} (${(error as Error).message}). ` +
        'Start one: redis-server --daemonize yes --port 6379 --save "" --appendonly no',
    );
  }
  return {
    url: TEST_REDIS_URL,
    prefix,
    client,
    async cleanup() {
      await deleteByPrefix(client, prefix);
      client.disconnect();
    },
  };
}

export async function deleteByPrefix(client: Redis, prefix: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    cursor = next;
    if (keys.length > 0) deleted += await client.del(...keys);
  } while (cursor !== '0');
  return deleted;
}
