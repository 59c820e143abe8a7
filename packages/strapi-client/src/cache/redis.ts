import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import type { EventHub } from '../events.ts';
import type { StrapiLogger } from '../options.ts';
import type { CacheEntry } from './entry.ts';
import { failFastRedisOptions, type HangWatch, reconnectBackoff, watchForHang } from './fail-fast.ts';

/*
 * Tag versions instead of tag member sets (BentoCache's approach): every tag has a version key
 * `<prefix>v:<tag>`; an entry is a hash holding its data, its tags and the version each tag had
 * when it was written. Invalidating a tag only gives it a new version (O(tags), whatever the
 * number of entries), and a read that sees an outdated version drops the entry and misses. So
 * nothing grows with the number of cached keys: entries expire by their own TTL, and a version
 * key lives as long as the longest entry written under it (each write extends it), then goes.
 * Versions come from one counter (`<prefix>vseq`) and never repeat, so a version key that
 * expired and came back can never make an old entry look current.
 */

/** KEYS: entry, seq, version keys… ARGV: data, px, tags joined by "\n". */
const WRITE_SCRIPT = `
local px = tonumber(ARGV[2])
local versions = {}
for i = 3, #KEYS do
  local v = redis.call('GET', KEYS[i])
  if not v then
    v = tostring(redis.call('INCR', KEYS[2]))
    redis.call('SET', KEYS[i], v, 'PX', px)
  elseif redis.call('PTTL', KEYS[i]) < px then
    redis.call('PEXPIRE', KEYS[i], px)
  end
  versions[#versions + 1] = v
end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], 'd', ARGV[1], 't', ARGV[3], 'v', table.concat(versions, '\\n'))
redis.call('PEXPIRE', KEYS[1], px)
return 1`;

/** KEYS: entry. ARGV: version key prefix. The data, or false when absent or outdated (then dropped). */
const READ_SCRIPT = `
local h = redis.call('HMGET', KEYS[1], 'd', 't', 'v')
if not h[1] then return false end
if h[2] and h[2] ~= '' then
  local keys = {}
  for tag in string.gmatch(h[2], '[^\\n]+') do keys[#keys + 1] = ARGV[1] .. tag end
  local current = redis.call('MGET', unpack(keys))
  local i = 0
  for v in string.gmatch(h[3] or '', '[^\\n]+') do
    i = i + 1
    if current[i] ~= v then
      redis.call('UNLINK', KEYS[1])
      return false
    end
  end
  if i ~= #keys then
    redis.call('UNLINK', KEYS[1])
    return false
  end
end
return h[1]`;

/** KEYS: seq, version keys… A tag nobody cached under has no version key: nothing to do. */
const INVALIDATE_SCRIPT = `
local n = 0
for i = 2, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 then
    redis.call('SET', KEYS[i], tostring(redis.call('INCR', KEYS[1])), 'KEEPTTL')
    n = n + 1
  end
end
return n`;

type ScriptClient = Redis & {
  strapiCacheWrite(numKeys: number, ...args: Array<string | number>): Promise<number>;
  strapiCacheRead(numKeys: number, ...args: string[]): Promise<string | null>;
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
 * L2: one ioredis connection that never makes a read wait for Redis (see fail-fast.ts): no
 * offline queue and a command timeout, so a dead Redis is a fast miss; a stopped one (connected,
 * silent) is noticed by a PING watch (or the first command that times out) and the connection
 * dropped, so it is a fast miss too until Redis answers again. Every method swallows Redis errors.
 *
 * Layout: `<prefix>e:<key>` is a hash (d: the JSON entry, t: its tags, v: their versions; PX =
 * ttl + grace); `<prefix>v:<tag>` is the tag's version; `<prefix>vseq` the version counter (see
 * the scripts above). Invalidation bumps versions; it never walks entries.
 * Standalone Redis / Sentinel only: the read script touches keys it computes (not Cluster-safe).
 */
export class RedisLayer {
  readonly client: Redis;
  #prefix: string;
  #logger: StrapiLogger;
  #scripts: ScriptClient;
  #watch: HangWatch;

  constructor(url: string, prefix: string, commandTimeoutMs: number, events: EventHub, logger: StrapiLogger) {
    this.#prefix = prefix;
    this.#logger = logger;
    this.client = new Redis(url, failFastRedisOptions(commandTimeoutMs, 'strapi-client:cache'));
    this.#watch = watchForHang(this.client, {
      timeoutMs: commandTimeoutMs,
      onHang: (detail) =>
        logger.warn({ err: detail }, 'strapi-client: redis cache connection hung, reconnecting'),
    });
    this.client.defineCommand('strapiCacheWrite', { lua: WRITE_SCRIPT });
    this.client.defineCommand('strapiCacheRead', { lua: READ_SCRIPT });
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

  versionKey(tag: string): string {
    return `${this.#prefix}v:${tag}`;
  }

  get #seqKey(): string {
    return `${this.#prefix}vseq`;
  }

  /** One round trip. Undefined on miss, on a Redis failure, or on a corrupt value. */
  async get(key: string): Promise<CacheEntry | undefined> {
    if (!this.isReady) return undefined;
    try {
      const raw = await this.#scripts.strapiCacheRead(1, this.entryKey(key), this.versionKey(''));
      if (raw === null) return undefined;
      const entry = JSON.parse(raw) as CacheEntry;
      if (typeof entry?.s !== 'number' || !Array.isArray(entry.t)) return undefined;
      return entry;
    } catch (error) {
      this.#logger.debug({ err: (error as Error).message }, 'strapi-client: L2 read failed');
      // a timed-out read says Redis may be hung: check now, not at the next tick
      this.#watch.suspect();
      return undefined;
    }
  }

  /** Fire and forget: the caller already has its value. */
  set(key: string, entry: CacheEntry, ttlMs: number): void {
    if (!this.isReady) return;
    // tags are stored "\n"-separated: one that contains a newline cannot be, so neither is the entry
    if (entry.t.some((tag) => tag.includes('\n') || tag.length === 0)) return;
    const keys = [this.entryKey(key), this.#seqKey, ...entry.t.map((tag) => this.versionKey(tag))];
    this.#scripts
      .strapiCacheWrite(
        keys.length,
        ...keys,
        JSON.stringify({ v: entry.v, t: entry.t, c: entry.c, f: entry.f, s: entry.s }),
        Math.max(1, Math.ceil(ttlMs)),
        entry.t.join('\n'),
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

  /**
   * Outdates every entry carrying one of the tags (one version bump per tag, however many entries
   * carry it). False when Redis could not be reached.
   */
  async invalidate(tags: string[]): Promise<boolean> {
    if (tags.length === 0) return true;
    if (!this.isReady) return false;
    try {
      const keys = [this.#seqKey, ...tags.map((tag) => this.versionKey(tag))];
      await this.#scripts.strapiCacheInvalidate(keys.length, ...keys);
      return true;
    } catch (error) {
      this.#logger.warn({ err: (error as Error).message, tags }, 'strapi-client: L2 invalidation failed');
      return false;
    }
  }

  async close(): Promise<void> {
    this.#watch.stop();
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
      retryStrategy: reconnectBackoff,
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

/**
 * QUIT lets pending replies arrive. Bounded: a stopped Redis never answers it, and never
 * acknowledges a close either, so after a second the socket is destroyed rather than ended.
 */
async function closeRedis(client: Redis): Promise<void> {
  if (client.status === 'end') return;
  if (client.status !== 'ready') {
    client.disconnect();
    return;
  }
  const quit = client.quit().then(
    () => true,
    () => false,
  );
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), 1_000);
  });
  const clean = await Promise.race([quit, late]);
  clearTimeout(timer);
  if (!clean) {
    client.disconnect();
    client.stream?.destroy();
  }
}
