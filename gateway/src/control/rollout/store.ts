import { readFile, rename, writeFile } from 'node:fs/promises';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { isMap, isSeq, parseDocument, type YAMLMap } from 'yaml';
import { isWritable } from '../overrides.ts';
import type { RouteOverride } from '../../table.ts';
import type { RolloutState } from './engine.ts';
import { type Fence, leaseKeys } from './lease.ts';
import type { Phase } from './schema.ts';

/**
 * Where rollout states live, and how a decision reaches the route.
 *
 * Redis (REDIS_URL set): hash `<prefix>rollout:state` (route → state JSON, `route:v` → version).
 * A transition is ONE script: it checks the leader's fence (lease value and fence counter, see
 * lease.ts) or, for a person's command, nothing but the version; compares-and-sets the version;
 * writes the route's override into the fleet's override hash `<prefix>overrides` (compared
 * against the override it was computed from) and announces it on `<prefix>changes`, the channel
 * every instance already follows for admin changes. So the state and the weights move together,
 * once, or not at all; a stale leader's write is refused whole.
 *
 * Memory (no Redis): one process, one leader; the override goes through the gateway's own
 * admin-change path (stored, written back, audited) before the state is recorded.
 */
export interface OverrideChange {
  weights: Record<string, number>;
  shadowPaused?: boolean;
  /** A backend to fall back to, or null to drop an earlier one (the file's `fallback` applies). */
  fallback?: string | null;
}

export interface CommitRequest {
  state: RolloutState;
  /** The version the transition was computed from (0: no state recorded yet). */
  expectedVersion: number;
  /** The leader's fence; null for a person's command (version compare-and-set only). */
  fence: Fence | null;
  change?: OverrideChange;
  by: string;
}

export type CommitResult = 'ok' | 'stale' | 'fenced' | 'override-changed';

export interface RolloutStore {
  readonly kind: 'redis' | 'memory';
  loadAll(): Promise<Map<string, RolloutState>>;
  load(route: string): Promise<RolloutState | null>;
  commit(request: CommitRequest): Promise<CommitResult>;
  /** `fn(route)` whenever any instance recorded a transition. */
  subscribe(fn: (route: string) => void): Promise<void>;
  close(): Promise<void>;
}

/** The override after a change: other fields (a person's shadow pause, say) are kept. */
export function mergeOverride(
  current: RouteOverride | null,
  change: OverrideChange,
  by: string,
  at: string,
): RouteOverride {
  const next: RouteOverride & { fallback?: string } = {
    ...(current ?? {}),
    weights: { ...change.weights },
    by,
    at,
  } as RouteOverride & { fallback?: string };
  if (change.shadowPaused !== undefined) next.shadowPaused = change.shadowPaused;
  if (change.fallback === null) delete next.fallback;
  else if (change.fallback !== undefined) next.fallback = change.fallback;
  return next;
}

const COMMIT = `
-- KEYS: state hash, lease, fence, overrides hash, overrides channel, rollout channel
-- ARGV: route, expected version, state json, next version, lease value, token,
--       override mode (keep|set), previous override, next override, override msg, rollout msg
if ARGV[6] ~= '' then
  if redis.call('get', KEYS[2]) ~= ARGV[5] then return 'fenced' end
  if redis.call('get', KEYS[3]) ~= ARGV[6] then return 'fenced' end
end
local v = tonumber(redis.call('hget', KEYS[1], ARGV[1] .. ':v') or '0')
if v ~= tonumber(ARGV[2]) then return 'stale' end
if ARGV[7] == 'set' then
  local o = redis.call('hget', KEYS[4], ARGV[1]) or ''
  if o ~= ARGV[8] then return 'override-changed' end
  redis.call('hset', KEYS[4], ARGV[1], ARGV[9])
end
redis.call('hset', KEYS[1], ARGV[1], ARGV[3], ARGV[1] .. ':v', ARGV[4])
if ARGV[7] == 'set' then redis.call('publish', KEYS[5], ARGV[10]) end
redis.call('publish', KEYS[6], ARGV[11])
return 'ok'`;

export class RedisRolloutStore implements RolloutStore {
  readonly kind = 'redis' as const;
  readonly cmd: Redis;
  private readonly sub: Redis;
  private readonly prefix: string;
  private readonly instance: string;
  private readonly logger: Logger;
  private retry: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(url: string, prefix: string, instance: string, logger: Logger) {
    this.cmd = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2 });
    this.sub = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2 });
    this.prefix = prefix;
    this.instance = instance;
    this.logger = logger;
    for (const c of [this.cmd, this.sub])
      c.on('error', (e) => logger.warn({ err: e.message }, 'redis error (rollout)'));
  }

  get keys() {
    const l = leaseKeys(this.prefix);
    return {
      state: `${this.prefix}rollout:state`,
      lease: l.lease,
      fence: l.fence,
      overrides: `${this.prefix}overrides`,
      overridesChannel: `${this.prefix}changes`,
      channel: `${this.prefix}rollout:changes`,
    };
  }

  private async ready(): Promise<void> {
    if (this.cmd.status === 'wait') await this.cmd.connect();
  }

  async loadAll(): Promise<Map<string, RolloutState>> {
    await this.ready();
    const all = await this.cmd.hgetall(this.keys.state);
    const out = new Map<string, RolloutState>();
    for (const [field, json] of Object.entries(all)) {
      if (field.endsWith(':v')) continue;
      try {
        out.set(field, JSON.parse(json) as RolloutState);
      } catch {
        this.logger.warn({ route: field }, 'ignoring unreadable rollout state in redis');
      }
    }
    return out;
  }

  async load(route: string): Promise<RolloutState | null> {
    await this.ready();
    const json = await this.cmd.hget(this.keys.state, route);
    return json ? (JSON.parse(json) as RolloutState) : null;
  }

  async commit(request: CommitRequest): Promise<CommitResult> {
    await this.ready();
    const k = this.keys;
    const route = request.state.route;
    // the override is merged here and compared in the script: a concurrent admin change makes
    // the script refuse, and the merge is redone on what is there now
    for (let attempt = 0; attempt < 5; attempt++) {
      let prev = '';
      let next = '';
      if (request.change) {
        prev = (await this.cmd.hget(k.overrides, route)) ?? '';
        let current: RouteOverride | null = null;
        try {
          current = prev ? (JSON.parse(prev) as RouteOverride) : null;
        } catch {}
        next = JSON.stringify(mergeOverride(current, request.change, request.by, new Date().toISOString()));
      }
      const result = (await this.cmd.eval(
        COMMIT,
        6,
        k.state,
        k.lease,
        k.fence,
        k.overrides,
        k.overridesChannel,
        k.channel,
        route,
        request.expectedVersion,
        JSON.stringify(request.state),
        request.state.version,
        request.fence?.value ?? '',
        request.fence ? String(request.fence.token) : '',
        request.change ? 'set' : 'keep',
        prev,
        next,
        JSON.stringify({ from: this.instance, route }),
        JSON.stringify({ from: this.instance, route, version: request.state.version }),
      )) as CommitResult;
      if (result !== 'override-changed') return result;
    }
    return 'override-changed';
  }

  async subscribe(fn: (route: string) => void): Promise<void> {
    const channel = this.keys.channel;
    this.sub.on('message', (ch: string, message: string) => {
      if (ch !== channel) return;
      try {
        fn((JSON.parse(message) as { route: string }).route);
      } catch {}
    });
    // Redis down at start must not keep the gateway from starting: keep trying in the background
    // (the controller also re-reads every state every few seconds)
    const attempt = async (): Promise<void> => {
      if (this.closed) return;
      try {
        if (this.sub.status === 'wait') await this.sub.connect();
        await this.sub.subscribe(channel);
      } catch (error) {
        this.logger.warn({ err: (error as Error).message }, 'rollout: redis subscribe failed; retrying');
        this.retry = setTimeout(() => void attempt(), 2000);
        this.retry.unref();
      }
    };
    await attempt();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    this.sub.disconnect();
    this.cmd.disconnect();
  }
}

export class MemoryRolloutStore implements RolloutStore {
  readonly kind = 'memory' as const;
  private readonly states = new Map<string, RolloutState>();
  private readonly listeners: Array<(route: string) => void> = [];
  private readonly apply: (route: string, change: OverrideChange, by: string) => Promise<void>;

  /** `apply` puts an override change into effect (the gateway's admin-change path). */
  constructor(apply: (route: string, change: OverrideChange, by: string) => Promise<void>) {
    this.apply = apply;
  }

  async loadAll(): Promise<Map<string, RolloutState>> {
    return new Map(this.states);
  }

  async load(route: string): Promise<RolloutState | null> {
    return this.states.get(route) ?? null;
  }

  async commit(request: CommitRequest): Promise<CommitResult> {
    const route = request.state.route;
    if ((this.states.get(route)?.version ?? 0) !== request.expectedVersion) return 'stale';
    if (request.change) await this.apply(route, request.change, request.by);
    if ((this.states.get(route)?.version ?? 0) !== request.expectedVersion) return 'stale';
    this.states.set(route, request.state);
    for (const l of this.listeners) l(route);
    return 'ok';
  }

  async subscribe(fn: (route: string) => void): Promise<void> {
    this.listeners.push(fn);
  }

  async close(): Promise<void> {}
}

/**
 * Records where a rollout stands in its route's `rollout.status` in the table file (comments and
 * layout kept), so the file stays the readable record and a restart without Redis resumes there.
 * A read-only file is left alone (false).
 */
export async function writeRolloutStatus(
  file: string,
  routeId: string,
  status: { phase: Phase; step: number; at: string },
  /** A promotion names the old backend as fallback; a rollback drops that again (null). */
  fallback?: string | null,
): Promise<boolean> {
  if (!(await isWritable(file))) return false;
  const doc = parseDocument(await readFile(file, 'utf8'));
  const routes = doc.get('routes', true);
  if (!isSeq(routes)) return false;
  const index = routes.items.findIndex((item) => isMap(item) && (item as YAMLMap).get('id') === routeId);
  if (index === -1 || !doc.hasIn(['routes', index, 'rollout'])) return false;
  const node = doc.createNode(status);
  node.flow = true;
  doc.setIn(['routes', index, 'rollout', 'status'], node);
  if (fallback) doc.setIn(['routes', index, 'fallback'], fallback);
  const tmp = `${file}.${process.pid}.rollout.tmp`;
  await writeFile(tmp, doc.toString({ lineWidth: 0 }));
  await rename(tmp, file);
  return true;
}

/**
 * POSTs a transition as JSON to the rollout's `notify` URL (Slack-compatible: `text` is the
 * message). Bounded by a timeout, never awaited by the rollout, failures logged only.
 */
export function notify(
  url: string,
  payload: { text: string } & Record<string, unknown>,
  logger: Logger,
  timeoutMs = 3000,
): Promise<void> {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'user-agent': 'pilot-gateway-rollout' },
    body: JSON.stringify(payload),
    signal: AbortSignal.timeout(timeoutMs),
    redirect: 'error',
  })
    .then(async (res) => {
      await res.body?.cancel();
      if (!res.ok) logger.warn({ url, status: res.status }, 'rollout notification refused');
    })
    .catch((error: Error) => {
      logger.warn(
        { url, err: error.name === 'TimeoutError' ? `timeout after ${timeoutMs} ms` : error.message },
        'rollout notification failed',
      );
    });
}
