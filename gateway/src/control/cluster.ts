import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry } from 'prom-client';
import type { Logger } from 'pino';
import type { RawStats } from '../metrics.ts';
import type { RouteShadowSnapshot } from '../shadow/stats.ts';
import type { Overrides, RouteOverride } from '../table.ts';
import type { AuditEntry, OverrideStore } from './overrides.ts';

/**
 * One worker per core (GATEWAY_WORKERS): the workers share the public and the admin port, so
 * whichever worker answers an admin request must speak for all of them. The primary is the hub:
 *
 * - overrides: without Redis the primary holds them and tells every worker about a change
 *   (with Redis, Redis does this, across machines too);
 * - /admin/stats: the answering worker asks the primary, which collects every worker's raw
 *   windows and shadow counters, merged by the worker (histograms merge exactly); shadow samples likewise;
 * - /metrics: prom-client's AggregatorRegistry sums the workers' registries in the primary.
 */
interface Msg {
  pilot: 1;
  type: string;
  id?: number;
  [key: string]: unknown;
}

export interface WorkerSnapshot {
  raws: RawStats;
  shadow: Record<string, RouteShadowSnapshot>;
}

const isMsg = (m: unknown): m is Msg => typeof m === 'object' && m !== null && (m as Msg).pilot === 1;

// ------------------------------------------------------------------ primary

export function startClusterHub(logger: Logger): void {
  const overrides: Overrides = {};
  const audit: AuditEntry[] = [];
  const aggregator = new AggregatorRegistry();
  let seq = 0;
  const pending = new Map<number, { left: number; parts: unknown[]; done: (v: unknown[]) => void }>();

  const reply = (worker: Worker, id: number | undefined, value: unknown) =>
    worker.send({ pilot: 1, type: 'reply', id, value } satisfies Msg);
  const broadcast = (msg: Msg) => {
    for (const w of Object.values(cluster.workers ?? {})) w?.send(msg);
  };

  cluster.on('message', (worker, msg: unknown) => {
    if (!isMsg(msg)) return;
    switch (msg.type) {
      case 'overrides:load':
        reply(worker, msg.id, overrides);
        break;
      case 'overrides:save': {
        const { route, override } = msg as unknown as { route: string; override: RouteOverride | null };
        if (override) overrides[route] = override;
        else delete overrides[route];
        reply(worker, msg.id, true);
        broadcast({ pilot: 1, type: 'overrides:changed', from: String(msg.from ?? worker.id) });
        break;
      }
      case 'audit:add':
        audit.unshift(msg.entry as AuditEntry);
        if (audit.length > 1000) audit.length = 1000;
        reply(worker, msg.id, true);
        break;
      case 'audit:list':
        reply(worker, msg.id, audit.slice(0, Number(msg.limit ?? 100)));
        break;
      case 'collect': {
        const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
        const id = ++seq;
        const timer = setTimeout(() => finish(), 2000);
        const finish = () => {
          const p = pending.get(id);
          if (!p) return;
          pending.delete(id);
          clearTimeout(timer);
          reply(worker, msg.id, p.parts);
        };
        pending.set(id, { left: workers.length, parts: [], done: finish });
        for (const w of workers) {
          w.send({ pilot: 1, type: 'snapshot', id, kind: msg.kind, args: msg.args } satisfies Msg);
        }
        break;
      }
      case 'snapshot:reply': {
        const p = pending.get(Number(msg.id));
        if (!p) break;
        p.parts.push(msg.value);
        if (--p.left <= 0) p.done(p.parts);
        break;
      }
      case 'metrics:collect':
        aggregator
          .clusterMetrics()
          .then((text) => reply(worker, msg.id, text))
          .catch((error: Error) => {
            logger.warn({ err: error.message }, 'cluster metrics failed');
            reply(worker, msg.id, `# cluster metrics failed: ${error.message}\n`);
          });
        break;
    }
  });
}

// ------------------------------------------------------------------ worker

let nextId = 0;
const waiting = new Map<number, (value: unknown) => void>();
let listening = false;

function listen(): void {
  if (listening) return;
  listening = true;
  process.on('message', (msg: unknown) => {
    if (!isMsg(msg) || msg.type !== 'reply') return;
    const done = waiting.get(Number(msg.id));
    if (done) {
      waiting.delete(Number(msg.id));
      done(msg.value);
    }
  });
}

function ask<T>(type: string, body: Record<string, unknown> = {}, timeoutMs = 5000): Promise<T> {
  listen();
  const id = ++nextId;
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      waiting.delete(id);
      reject(new Error(`cluster primary did not answer ${type}`));
    }, timeoutMs);
    waiting.set(id, (v) => {
      clearTimeout(timer);
      resolve(v as T);
    });
    process.send?.({ pilot: 1, type, id, ...body } satisfies Msg);
  });
}

export class ClusterOverrideStore implements OverrideStore {
  readonly kind = 'memory' as const;
  private readonly instance: string;

  constructor(instance: string) {
    this.instance = instance;
  }

  load(): Promise<Overrides> {
    return ask<Overrides>('overrides:load');
  }

  async save(routeId: string, override: RouteOverride | null): Promise<void> {
    await ask('overrides:save', { route: routeId, override, from: this.instance });
  }

  async subscribe(onChange: (from: string) => void): Promise<void> {
    process.on('message', (msg: unknown) => {
      if (isMsg(msg) && msg.type === 'overrides:changed') onChange(String(msg.from));
    });
  }

  async audit(entry: AuditEntry): Promise<void> {
    await ask('audit:add', { entry });
  }

  recentAudit(limit: number): Promise<AuditEntry[]> {
    return ask<AuditEntry[]>('audit:list', { limit });
  }

  async close(): Promise<void> {}
}

const servers = new Map<string, (args: Record<string, unknown>) => unknown>();

/** Worker side: answer the primary's "collect" requests of this kind with `fn(args)`. */
export function serveWorker(kind: string, fn: (args: Record<string, unknown>) => unknown): void {
  if (servers.size === 0) {
    process.on('message', (msg: unknown) => {
      if (!isMsg(msg) || msg.type !== 'snapshot') return;
      const handler = servers.get(String(msg.kind));
      const value = handler ? handler((msg.args ?? {}) as Record<string, unknown>) : null;
      process.send?.({ pilot: 1, type: 'snapshot:reply', id: msg.id, value } satisfies Msg);
    });
  }
  servers.set(kind, fn);
}

/** Asks every worker (this one included) through the primary; one answer per worker. */
export function collectFromWorkers<T>(kind: string, args: Record<string, unknown> = {}): Promise<T[]> {
  return ask<T[]>('collect', { kind, args });
}

export function collectClusterStats(windowS: number): Promise<WorkerSnapshot[]> {
  return collectFromWorkers<WorkerSnapshot>('stats', { window: windowS });
}

export function collectClusterMetrics(): Promise<string> {
  return ask<string>('metrics:collect');
}

/** Lets the primary's AggregatorRegistry read this worker's registry. */
export function exposeWorkerRegistry(registry: import('prom-client').Registry): void {
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([registry]);
}
