import { randomUUID } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import type { EventHub } from '../events.ts';
import type { StrapiLogger } from '../options.ts';
import type { CacheEntry } from './entry.ts';

/** Reconnect forever, backing off to 2 s: Redis coming back must need no restart of ours. */
const retryStrategy = (times: number) => Math.min(50 * 2 ** Math.min(times, 6), 2_000);

const WRITE_SCRIPT = `
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
local px = tonumber(ARGV[2])
for i = 2, #KEYS do
  redis.call('SADD', KEYS[i], KEYS[1])
  if redis.call('PTTL', KEYS[i]) < px then redis.call('PEXPIRE', KEYS[i], px) end
end
return 1`;

const INVALIDATE_SCRIPT = `
local n = 0
for i = 1, #KEYS do
  local members = redis.call('SMEMBERS', KEYS[i])
  for j = 1, #members, 500 do
    local chunk = {}
    for k = j, math.min(j + 499, #members) do chunk[#chunk + 1] = members[k] end
    n = n + redis.call('UNLINK', unpack(chunk))
  end
  redis.call('UNLINK', KEYS[i])
end
return n`;

type ScriptClient = Redis & {
  strapiCacheWrite(numKeys: number, ...args: Array<string | number>): Promise<number>;
  strapiCacheInvalidate(numKeys: number, ...keys: string[]): Promise<number>;
};

/** Logs connection errors at most once per state change, so a dead Redis doesn't flood the log. */
function watchConnection(
  client: Redis,
  connection: 'cache' | 'bus',
  events: EventHub,
  logger: StrapiLogger,
  onReady: (reconnected: boolean) => void,
): void {
  let up = false;
  let everUp = false;
  let lastError: string | undefined;
  client.on('ready', () => {
    const reconnected = everUp;
    up = true;
    everUp = true;
    lastError = undefined;
    logger.info({ connection }, `strapi-client: redis ${connection} connection ready`);
    events.emit('redis', { connection, state: 'ready' });
    onReady(reconnected);
  });
  client.on('error', (error: Error) => {
    const message = (error as Error & { code?: string }).code ?? error.message;
    if (message !== lastError) {
      lastError = message;
      logger.warn({ connection, err: message }, `strapi-client: redis ${connection} connection error`);
    }
  });
  client.on('close', () => {
    if (!up) return;
    up = false;
    logger.warn({ connection }, `strapi-client: redis ${connection} connection lost, reconnecting`);
    events.emit('redis', { connection, state: 'down', error: lastError });
  });
}

/**
 * L2: one ioredis connection with no offline queue and a command timeout, so a dead or slow
 * Redis turns into a fast miss instead of a stuck request. Every method swallows Redis errors.
 *
 * Layout: `<prefix>e:<key>` holds a JSON entry (PX = ttl + grace); `<prefix>t:<tag>` is a set of
 * entry keys carrying that tag. Invalidation unlinks the members and the set in one script.
 * Standalone Redis / Sentinel only: the scripts touch keys they compute (not Cluster-safe).
 */
export class RedisLayer {
  readonly client: Redis;
  #prefix: string;
  #logger: StrapiLogger;
  #scripts: ScriptClient;

  constructor(url: string, prefix: string, commandTimeoutMs: number, events: EventHub, logger: StrapiLogger) {
    this.#prefix = prefix;
    this.#logger = logger;
    const options: RedisOptions = {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: commandTimeoutMs,
      connectTimeout: 2_000,
      retryStrategy,
      connectionName: 'strapi-client:cache',
    };
    this.client = new Redis(url, options);
    this.client.defineCommand('strapiCacheWrite', { lua: WRITE_SCRIPT });
    this.client.defineCommand('strapiCacheInvalidate', { lua: INVALIDATE_SCRIPT });
    this.#scripts = this.client as ScriptClient;
    watchConnection(this.client, 'cache', events, logger, () => {});
  }

  get isReady(): boolean {
    return this.client.status === 'ready';
  }

  entryKey(key: string): string {
    return `${this.#prefix}e:${key}`;
  }

  tagKey(tag: string): string {
    return `${this.#prefix}t:${tag}`;
  }

  /** One round trip. Undefined on miss, on a Redis failure, or on a corrupt value. */
  async get(key: string): Promise<CacheEntry | undefined> {
    if (!this.isReady) return undefined;
    try {
      const raw = await this.client.get(this.entryKey(key));
      if (raw === null) return undefined;
      const entry = JSON.parse(raw) as CacheEntry;
      if (typeof entry?.s !== 'number' || !Array.isArray(entry.t)) return undefined;
      return entry;
    } catch (error) {
      this.#logger.debug({ err: (error as Error).message }, 'strapi-client: L2 read failed');
      return undefined;
    }
  }

  /** Fire and forget: the caller already has its value. */
  set(key: string, entry: CacheEntry, ttlMs: number): void {
    if (!this.isReady) return;
    const keys = [this.entryKey(key), ...entry.t.map((tag) => this.tagKey(tag))];
    this.#scripts
      .strapiCacheWrite(
        keys.length,
        ...keys,
        JSON.stringify({ v: entry.v, t: entry.t, c: entry.c, f: entry.f, s: entry.s }),
        Math.max(1, Math.ceil(ttlMs)),
      )
      .catch((error: Error) => {
        this.#logger.debug({ err: error.message }, 'strapi-client: L2 write failed');
      });
  }

  /** Fire and forget. */
  delete(key: string): void {
    if (!this.isReady) return;
    this.client.unlink(this.entryKey(key)).catch((error: Error) => {
      this.#logger.debug({ err: error.message }, 'strapi-client: L2 delete failed');
    });
  }

  /** Deletes every entry carrying one of the tags. False when Redis could not be reached. */
  async invalidate(tags: string[]): Promise<boolean> {
    if (tags.length === 0) return true;
    if (!this.isReady) return false;
    try {
      const keys = tags.map((tag) => this.tagKey(tag));
      await this.#scripts.strapiCacheInvalidate(keys.length, ...keys);
      return true;
    } catch (error) {
      this.#logger.warn({ err: (error as Error).message, tags }, 'strapi-client: L2 invalidation failed');
      return false;
    }
  }

  async close(): Promise<void> {
    await closeRedis(this.client);
  }
}

/**
 * The invalidation bus: Redis pub/sub on `<prefix>invalidate`. Each instance ignores its own
 * messages (it already dropped locally). When the subscriber reconnects after an outage,
 * messages may have been missed, so `onResync` clears the local L1.
 */
export class InvalidationBus {
  readonly id = randomUUID();
  #sub: Redis;
  #pub: Redis;
  #channel: string;
  #logger: StrapiLogger;
  #subscribed: Promise<boolean>;

  constructor(
    url: string,
    prefix: string,
    publisher: Redis,
    handlers: { onRemote: (tags: string[]) => void; onResync: () => void },
    events: EventHub,
    logger: StrapiLogger,
  ) {
    this.#pub = publisher;
    this.#channel = `${prefix}invalidate`;
    this.#logger = logger;
    this.#sub = new Redis(url, {
      maxRetriesPerRequest: null,
      connectTimeout: 2_000,
      retryStrategy,
      connectionName: 'strapi-client:bus',
    });
    watchConnection(this.#sub, 'bus', events, logger, (reconnected) => {
      if (reconnected) handlers.onResync();
    });
    this.#sub.on('message', (channel: string, message: string) => {
      if (channel !== this.#channel) return;
      try {
        const parsed = JSON.parse(message) as { i?: unknown; t?: unknown };
        if (parsed.i === this.id || !Array.isArray(parsed.t)) return;
        handlers.onRemote(parsed.t.filter((tag): tag is string => typeof tag === 'string'));
      } catch {
        this.#logger.warn({}, 'strapi-client: ignored a malformed invalidation message');
      }
    });
    this.#subscribed = this.#sub.subscribe(this.#channel).then(
      () => true,
      (error: Error) => {
        this.#logger.warn({ err: error.message }, 'strapi-client: bus subscribe failed');
        return false;
      },
    );
  }

  /** Resolves true once subscribed (or false if that failed). */
  subscribed(): Promise<boolean> {
    return this.#subscribed;
  }

  async publish(tags: string[]): Promise<boolean> {
    if (this.#pub.status !== 'ready') return false;
    try {
      await this.#pub.publish(this.#channel, JSON.stringify({ i: this.id, t: tags }));
      return true;
    } catch (error) {
      this.#logger.warn({ err: (error as Error).message, tags }, 'strapi-client: bus publish failed');
      return false;
    }
  }

  async close(): Promise<void> {
    await closeRedis(this.#sub);
  }
}

async function closeRedis(client: Redis): Promise<void> {
  if (client.status === 'end') return;
  if (client.status !== 'ready') {
    client.disconnect();
    return;
  }
  try {
    await client.quit();
  } catch {
    client.disconnect();
  }
}
