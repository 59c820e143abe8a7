import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { addBackend, type BackendNumbers, emptyBackend, type ShadowNumbers, trimHist } from './gates.ts';

/**
 * The numbers the gates read: per route, per backend, per second, from EVERY gateway instance.
 *
 * Each instance publishes its own per-second numbers (WindowPublisher) into a WindowStore; the
 * leader reads any window [from, to) back as one sum. With Redis the store is shared
 * (RedisWindowStore: one hash per route and second, HINCRBY from every instance), so the gates see
 * the fleet; without Redis it is this process's memory (MemoryWindowStore).
 */
export interface SecondNumbers {
  /** Epoch second the numbers belong to. */
  second: number;
  backends: Record<string, BackendNumbers>;
  shadow?: ShadowNumbers;
}

export interface RouteWindowNumbers {
  backends: Record<string, BackendNumbers>;
  shadow: ShadowNumbers;
  /** Distinct instances that published into the window. */
  instances: number;
}

export interface WindowSource {
  /** The sum of [fromMs, toMs) (whole seconds) for one route. */
  read(route: string, fromMs: number, toMs: number): Promise<RouteWindowNumbers>;
}

export interface WindowSink {
  add(route: string, seconds: SecondNumbers[]): Promise<void>;
}

export type WindowStore = WindowSource & WindowSink;

function emptyShadow(): ShadowNumbers {
  return { compared: 0, mismatched: 0, notCompared: 0 };
}

function addShadow(a: ShadowNumbers, b: ShadowNumbers | undefined): ShadowNumbers {
  if (!b) return a;
  return {
    compared: a.compared + b.compared,
    mismatched: a.mismatched + b.mismatched,
    notCompared: a.notCompared + b.notCompared,
  };
}

/** Numbers kept for an hour: a check reads its interval (at most 1 h) right after it closes. */
export const RETENTION_S = 3600 + 300;

export class MemoryWindowStore implements WindowStore {
  private readonly routes = new Map<
    string,
    Map<number, { backends: Record<string, BackendNumbers>; shadow: ShadowNumbers }>
  >();
  async add(route: string, seconds: SecondNumbers[]): Promise<void> {
    let byRoute = this.routes.get(route);
    if (!byRoute) {
      byRoute = new Map();
      this.routes.set(route, byRoute);
    }
    let newest = 0;
    for (const s of seconds) {
      newest = Math.max(newest, s.second);
      const cur = byRoute.get(s.second) ?? { backends: {}, shadow: emptyShadow() };
      for (const [name, n] of Object.entries(s.backends))
        cur.backends[name] = addBackend(cur.backends[name] ?? emptyBackend(), n);
      cur.shadow = addShadow(cur.shadow, s.shadow);
      byRoute.set(s.second, cur);
    }
    for (const second of byRoute.keys()) if (second < newest - RETENTION_S) byRoute.delete(second);
  }

  async read(route: string, fromMs: number, toMs: number): Promise<RouteWindowNumbers> {
    const out: RouteWindowNumbers = { backends: {}, shadow: emptyShadow(), instances: 0 };
    const byRoute = this.routes.get(route);
    if (!byRoute) return out;
    for (let s = Math.floor(fromMs / 1000); s < Math.floor(toMs / 1000); s++) {
      const cur = byRoute.get(s);
      if (!cur) continue;
      out.instances = 1;
      for (const [name, n] of Object.entries(cur.backends))
        out.backends[name] = addBackend(out.backends[name] ?? emptyBackend(), n);
      out.shadow = addShadow(out.shadow, cur.shadow);
    }
    return out;
  }
}

/**
 * `<prefix>rollout:win:<route>:<second>` hashes: `n:<backend>` answers, `e:<backend>` errors,
 * `h:<backend>:<bucket>` latency histogram, `sc`/`sm`/`sx` shadow compared/mismatched/not
 * compared, `i:<instance>` who contributed. Every instance HINCRBYs its own share.
 */
export class RedisWindowStore implements WindowStore {
  private readonly redis: Redis;
  private readonly prefix: string;
  private readonly instance: string;
  private readonly logger: Logger;

  constructor(redis: Redis, prefix: string, instance: string, logger: Logger) {
    this.redis = redis;
    this.prefix = prefix;
    this.instance = instance;
    this.logger = logger;
  }

  private key(route: string, second: number): string {
    return `${this.prefix}rollout:win:${route}:${second}`;
  }

  async add(route: string, seconds: SecondNumbers[]): Promise<void> {
    if (seconds.length === 0) return;
    const multi = this.redis.multi();
    for (const s of seconds) {
      const key = this.key(route, s.second);
      for (const [name, n] of Object.entries(s.backends)) {
        if (n.requests) multi.hincrby(key, `n:${name}`, n.requests);
        if (n.errors) multi.hincrby(key, `e:${name}`, n.errors);
        n.hist.forEach((c, i) => {
          if (c) multi.hincrby(key, `h:${name}:${i}`, c);
        });
      }
      if (s.shadow) {
        if (s.shadow.compared) multi.hincrby(key, 'sc', s.shadow.compared);
        if (s.shadow.mismatched) multi.hincrby(key, 'sm', s.shadow.mismatched);
        if (s.shadow.notCompared) multi.hincrby(key, 'sx', s.shadow.notCompared);
      }
      multi.hset(key, `i:${this.instance}`, 1);
      multi.expire(key, RETENTION_S);
    }
    await multi.exec();
  }

  async read(route: string, fromMs: number, toMs: number): Promise<RouteWindowNumbers> {
    const out: RouteWindowNumbers = { backends: {}, shadow: emptyShadow(), instances: 0 };
    const first = Math.floor(fromMs / 1000);
    const last = Math.floor(toMs / 1000);
    if (last <= first) return out;
    const pipeline = this.redis.pipeline();
    for (let s = first; s < last; s++) pipeline.hgetall(this.key(route, s));
    const replies = (await pipeline.exec()) ?? [];
    const instances = new Set<string>();
    const hists = new Map<string, number[]>();
    for (const [error, value] of replies) {
      if (error) {
        this.logger.warn({ err: error.message, route }, 'rollout window read failed');
        throw error;
      }
      for (const [field, raw] of Object.entries(value as Record<string, string>)) {
        const n = Number(raw);
        if (!Number.isFinite(n)) continue;
        if (field.startsWith('i:')) instances.add(field.slice(2));
        else if (field === 'sc') out.shadow.compared += n;
        else if (field === 'sm') out.shadow.mismatched += n;
        else if (field === 'sx') out.shadow.notCompared += n;
        else if (field.startsWith('n:') || field.startsWith('e:')) {
          const name = field.slice(2);
          const b = out.backends[name] ?? emptyBackend();
          out.backends[name] = b;
          if (field[0] === 'n') b.requests += n;
          else b.errors += n;
        } else if (field.startsWith('h:')) {
          const at = field.lastIndexOf(':');
          const name = field.slice(2, at);
          const i = Number(field.slice(at + 1));
          if (!Number.isInteger(i) || i < 0 || i > 1000) continue;
          const h = hists.get(name) ?? [];
          h[i] = (h[i] ?? 0) + n;
          hists.set(name, h);
        }
      }
    }
    for (const [name, h] of hists) {
      const b = out.backends[name] ?? emptyBackend();
      b.hist = trimHist(Array.from(h, (c) => c ?? 0));
      out.backends[name] = b;
    }
    out.instances = instances.size;
    return out;
  }
}

/** What one process knows about its own traffic (the gateway's recorders and shadow counters). */
export interface LocalNumbers {
  /** Rows `[epochSecond, answers, 5xx, ...latency histogram]` of the last `seconds` seconds per route × backend. */
  rows(seconds: number): Array<{ route: string; backend: string; rows: number[][] }>;
  /** Totals since start: attempts that failed over to the fallback, and mirrored answers. */
  totals(): Promise<{
    fallbacks: Array<{ route: string; from: string; count: number }>;
    shadow: Array<{ route: string } & ShadowNumbers>;
  }>;
}

/**
 * Publishes this process's numbers for the routes under rollout, once per period: whole seconds
 * that are over (the recorders never touch a past second again) and the growth of the totals.
 * A request that failed over counts as a failed answer of the backend it left, because the
 * recorders count it for the backend that finally answered.
 */
export class WindowPublisher {
  private readonly local: LocalNumbers;
  private readonly sink: WindowSink;
  private readonly routes: () => ReadonlySet<string>;
  private readonly now: () => number;
  private readonly logger: Logger;
  private readonly published = new Map<string, number>();
  private totals = new Map<string, number>();
  private lastFlush = 0;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> = Promise.resolve();

  constructor(options: {
    local: LocalNumbers;
    sink: WindowSink;
    routes: () => ReadonlySet<string>;
    now?: () => number;
    logger: Logger;
  }) {
    this.local = options.local;
    this.sink = options.sink;
    this.routes = options.routes;
    this.now = options.now ?? Date.now;
    this.logger = options.logger;
  }

  flush(): Promise<void> {
    this.running = this.running
      .then(() => this.flushNow())
      .catch((error: Error) => {
        this.logger.warn({ err: error.message }, 'rollout numbers not published');
      });
    return this.running;
  }

  private async flushNow(): Promise<void> {
    const now = this.now();
    const current = Math.floor(now / 1000);
    const routes = this.routes();
    const lookback = Math.min(60, Math.max(3, Math.ceil((now - this.lastFlush) / 1000) + 2));
    this.lastFlush = now;
    const out = new Map<string, Map<number, SecondNumbers>>();
    const at = (route: string, second: number): SecondNumbers => {
      let byRoute = out.get(route);
      if (!byRoute) {
        byRoute = new Map();
        out.set(route, byRoute);
      }
      let s = byRoute.get(second);
      if (!s) {
        s = { second, backends: {} };
        byRoute.set(second, s);
      }
      return s;
    };
    for (const { route, backend, rows } of this.local.rows(lookback)) {
      const key = `${route}\u0000${backend}`;
      const last = this.published.get(key) ?? current - lookback;
      let newest = last;
      for (const row of rows) {
        const second = row[0]!;
        if (second <= last || second >= current) continue;
        newest = Math.max(newest, second);
        if (!routes.has(route)) continue;
        const s = at(route, second);
        s.backends[backend] = addBackend(s.backends[backend] ?? emptyBackend(), {
          requests: row[1]!,
          errors: row[2]!,
          hist: trimHist(row.slice(3)),
        });
      }
      this.published.set(key, Math.max(newest, current - 1));
    }
    const totals = await this.local.totals();
    const seen = new Map<string, number>();
    const delta = (key: string, value: number): number => {
      seen.set(key, value);
      const before = this.totals.get(key);
      return before === undefined || value < before ? 0 : value - before;
    };
    for (const f of totals.fallbacks) {
      const d = delta(`f\u0000${f.route}\u0000${f.from}`, f.count);
      if (d > 0 && routes.has(f.route)) {
        const s = at(f.route, current);
        s.backends[f.from] = addBackend(s.backends[f.from] ?? emptyBackend(), {
          requests: d,
          errors: d,
          hist: [],
        });
      }
    }
    for (const sh of totals.shadow) {
      const c = delta(`sc\u0000${sh.route}`, sh.compared);
      const m = delta(`sm\u0000${sh.route}`, sh.mismatched);
      const x = delta(`sx\u0000${sh.route}`, sh.notCompared);
      if ((c || m || x) && routes.has(sh.route)) {
        const s = at(sh.route, current);
        s.shadow = addShadow(s.shadow ?? emptyShadow(), { compared: c, mismatched: m, notCompared: x });
      }
    }
    this.totals = seen;
    for (const [route, seconds] of out) await this.sink.add(route, [...seconds.values()]);
  }

  start(periodMs: number): void {
    this.timer = setInterval(() => void this.flush(), periodMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.flush();
  }
}
