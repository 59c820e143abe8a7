import { access, constants, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { isMap, isSeq, parseDocument, type YAMLMap } from 'yaml';
import type { Overrides, RouteOverride } from '../table.ts';

/**
 * Where admin changes (weights, shadow pause) live so that they reach every gateway instance
 * and survive a restart:
 *
 * - Redis (when REDIS_URL is set): a hash `<prefix>overrides` (route id → JSON) is the fleet's
 *   shared state; a message on `<prefix>changes` tells every instance to re-read it. An instance
 *   that starts later reads the hash on start-up. The audit trail is the list `<prefix>audit`.
 * - Otherwise an in-process map: the change holds for this process only.
 * - Independently, when the table file is writable, the change is also written back into the
 *   file (comments kept), so the file stays the readable record and a restart without Redis
 *   keeps it. A read-only file (a Kubernetes ConfigMap) is left alone.
 */
export interface AuditEntry {
  at: string;
  who: string;
  ip: string;
  instance: string;
  action: string;
  route?: string;
  detail?: unknown;
}

export interface OverrideStore {
  readonly kind: 'redis' | 'memory';
  load(): Promise<Overrides>;
  save(routeId: string, override: RouteOverride | null): Promise<void>;
  /** Calls `onChange` whenever another instance (or this one) changed the overrides. */
  subscribe(onChange: (from: string) => void): Promise<void>;
  audit(entry: AuditEntry): Promise<void>;
  recentAudit(limit: number): Promise<AuditEntry[]>;
  close(): Promise<void>;
}

export class MemoryOverrideStore implements OverrideStore {
  readonly kind = 'memory' as const;
  private overrides: Overrides = {};
  private readonly log: AuditEntry[] = [];
  private listener: ((from: string) => void) | null = null;
  private readonly instance: string;

  constructor(instance: string) {
    this.instance = instance;
  }

  async load(): Promise<Overrides> {
    return { ...this.overrides };
  }

  async save(routeId: string, override: RouteOverride | null): Promise<void> {
    if (override) this.overrides[routeId] = override;
    else delete this.overrides[routeId];
    this.listener?.(this.instance);
  }

  async subscribe(onChange: (from: string) => void): Promise<void> {
    this.listener = onChange;
  }

  async audit(entry: AuditEntry): Promise<void> {
    this.log.unshift(entry);
    if (this.log.length > 1000) this.log.length = 1000;
  }

  async recentAudit(limit: number): Promise<AuditEntry[]> {
    return this.log.slice(0, limit);
  }

  async close(): Promise<void> {}
}

export class RedisOverrideStore implements OverrideStore {
  readonly kind = 'redis' as const;
  private readonly cmd: Redis;
  private readonly sub: Redis;
  private readonly prefix: string;
  private readonly instance: string;
  private readonly logger: Logger;
  private retry: NodeJS.Timeout | null = null;

  constructor(url: string, prefix: string, instance: string, logger: Logger) {
    this.cmd = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2 });
    this.sub = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2 });
    this.prefix = prefix;
    this.instance = instance;
    this.logger = logger;
    for (const c of [this.cmd, this.sub])
      c.on('error', (e) => this.logger.warn({ err: e.message }, 'redis error'));
  }

  private get key() {
    return `${this.prefix}overrides`;
  }

  private get channel() {
    return `${this.prefix}changes`;
  }

  async load(): Promise<Overrides> {
    if (this.cmd.status === 'wait') await this.cmd.connect();
    const all = await this.cmd.hgetall(this.key);
    const out: Overrides = {};
    for (const [id, json] of Object.entries(all)) {
      try {
        out[id] = JSON.parse(json) as RouteOverride;
      } catch {
        this.logger.warn({ route: id }, 'ignoring unreadable override in redis');
      }
    }
    return out;
  }

  async save(routeId: string, override: RouteOverride | null): Promise<void> {
    if (this.cmd.status === 'wait') await this.cmd.connect();
    if (override) await this.cmd.hset(this.key, routeId, JSON.stringify(override));
    else await this.cmd.hdel(this.key, routeId);
    await this.cmd.publish(this.channel, JSON.stringify({ from: this.instance, route: routeId }));
  }

  async subscribe(onChange: (from: string) => void): Promise<void> {
    this.sub.on('message', (channel: string, message: string) => {
      if (channel !== this.channel) return;
      let from = 'unknown';
      try {
        from = (JSON.parse(message) as { from: string }).from;
      } catch {}
      onChange(from);
    });
    // After a reconnect, re-read: messages sent while we were away are lost (ioredis resubscribes).
    let subscribed = false;
    this.sub.on('ready', () => {
      if (subscribed) onChange('reconnect');
    });
    const attempt = async (): Promise<void> => {
      try {
        if (this.sub.status === 'wait') await this.sub.connect();
        await this.sub.subscribe(this.channel);
        if (this.retry) onChange('recovered');
        subscribed = true;
        this.retry = null;
      } catch (error) {
        this.logger.warn({ err: (error as Error).message }, 'redis subscribe failed; retrying');
        this.retry = setTimeout(() => void attempt(), 2000);
        this.retry.unref();
      }
    };
    await attempt();
  }

  async audit(entry: AuditEntry): Promise<void> {
    const key = `${this.prefix}audit`;
    await this.cmd.multi().lpush(key, JSON.stringify(entry)).ltrim(key, 0, 999).exec();
  }

  async recentAudit(limit: number): Promise<AuditEntry[]> {
    const rows = await this.cmd.lrange(`${this.prefix}audit`, 0, limit - 1);
    return rows.map((r) => JSON.parse(r) as AuditEntry);
  }

  async close(): Promise<void> {
    if (this.retry) clearTimeout(this.retry);
    this.sub.disconnect();
    this.cmd.disconnect();
  }
}

export async function isWritable(file: string): Promise<boolean> {
  try {
    await access(file, constants.W_OK);
    await access(dirname(file), constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Writes a route's weights / shadow pause back into the table file, keeping comments and
 * layout. Weights are written as `split` (zeros kept, so both sides stay named), and the
 * route's promote/rollback pair is pinned as `migration` so it does not change meaning.
 */
export async function writeBack(
  file: string,
  routeId: string,
  change: {
    weights?: Record<string, number>;
    shadowPaused?: boolean;
    migration?: { from: string; to: string } | null;
  },
): Promise<boolean> {
  if (!(await isWritable(file))) return false;
  const doc = parseDocument(await readFile(file, 'utf8'));
  const routes = doc.get('routes', true);
  if (!isSeq(routes)) return false;
  const index = routes.items.findIndex((item) => isMap(item) && (item as YAMLMap).get('id') === routeId);
  if (index === -1) return false;
  const route = routes.items[index] as YAMLMap;
  if (change.weights) {
    const nonZero = Object.entries(change.weights).filter(([, w]) => w > 0);
    const current = route.get('backend');
    if (nonZero.length === 1 && !route.has('split') && current === nonZero[0]![0]) {
      // unchanged single-backend route
    } else {
      route.delete('backend');
      const split = doc.createNode(change.weights);
      split.flow = true;
      route.set('split', split);
      if (change.migration && !route.has('migration')) {
        const m = doc.createNode(change.migration);
        m.flow = true;
        route.set('migration', m);
      }
    }
  }
  if (change.shadowPaused !== undefined && route.has('shadow')) {
    doc.setIn(['routes', index, 'shadow', 'paused'], change.shadowPaused);
  }
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, doc.toString({ lineWidth: 0 }));
  await rename(tmp, file);
  return true;
}
