import { randomBytes } from 'node:crypto';
import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import type { Logger } from 'pino';
import { type CapturedResponse, type Difference, diffResponses } from './diff.ts';
import type { Backend } from './health.ts';
import type { GatewayMetrics } from './metrics.ts';
import type { CompiledRoute } from './table.ts';

/**
 * Shadowing: the served backend answers the client; a copy of the request goes to the shadow
 * backend on its own connection pool, and when both responses are complete they are diffed.
 * The mirror never touches the client's response: its body is written without waiting for
 * backpressure, it has its own deadline, and when `shadowMaxConcurrent` mirrors are already in
 * flight (or the body is over the route's `maxBodyBytes`) it is dropped, not queued.
 */
export interface SampleSide {
  backend: string;
  status: number | null;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  truncated: boolean;
  error?: string;
}

export interface ShadowSample {
  id: string;
  route: string;
  at: string;
  method: string;
  path: string;
  requestId: string;
  primary: SampleSide;
  shadow: SampleSide;
  differences: Difference[];
}

export type ShadowSampleSummary = Omit<ShadowSample, 'primary' | 'shadow'> & {
  primary: { backend: string; status: number | null };
  shadow: { backend: string; status: number | null };
};

const SAMPLE_BODY_CHARS = 64 * 1024;

export class SampleStore {
  private readonly byRoute = new Map<string, ShadowSample[]>();
  private readonly max: () => number;

  constructor(max: () => number) {
    this.max = max;
  }

  add(sample: ShadowSample): void {
    const max = this.max();
    if (max <= 0) return;
    let list = this.byRoute.get(sample.route);
    if (!list) {
      list = [];
      this.byRoute.set(sample.route, list);
    }
    list.push(sample);
    while (list.length > max) list.shift();
  }

  list(route?: string, limit = 50): ShadowSampleSummary[] {
    const all = route ? (this.byRoute.get(route) ?? []) : [...this.byRoute.values()].flat();
    return all
      .sort((a, b) => (a.at < b.at ? 1 : -1))
      .slice(0, limit)
      .map((s) => ({
        ...s,
        primary: { backend: s.primary.backend, status: s.primary.status },
        shadow: { backend: s.shadow.backend, status: s.shadow.status },
      }));
  }

  get(id: string): ShadowSample | undefined {
    for (const list of this.byRoute.values()) {
      const found = list.find((s) => s.id === id);
      if (found) return found;
    }
    return undefined;
  }

  clear(route?: string): void {
    if (route) this.byRoute.delete(route);
    else this.byRoute.clear();
  }
}

/** Per-route mirror counters for the stats endpoint. */
export interface ShadowCounts {
  mirrored: number;
  matched: number;
  mismatched: number;
  errors: number;
  dropped: number;
}

export interface ShadowStart {
  route: CompiledRoute;
  shadow: Backend;
  primaryBackend: string;
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  requestId: string;
  /** Declared request body length, or -1 for chunked, 0 for none. */
  bodyLength: number;
}

export class ShadowRun {
  readonly hasBody: boolean;
  private readonly mgr: ShadowManager;
  private readonly start: ShadowStart;
  private readonly req: http.ClientRequest;
  private readonly limit: number;
  private sent = 0;
  private result: CapturedResponse | { error: string; timeout: boolean } | undefined;
  private primary: CapturedResponse | { error: string } | undefined;
  private readonly timer: NodeJS.Timeout;
  private finished = false;

  constructor(mgr: ShadowManager, start: ShadowStart) {
    this.mgr = mgr;
    this.start = start;
    const shadowCfg = start.route.shadow!;
    this.limit = shadowCfg.maxBodyBytes;
    this.hasBody = start.bodyLength !== 0;
    const url = start.shadow.url;
    const headers: IncomingHttpHeaders = { ...start.headers, host: url.host, 'x-pilot-shadow': '1' };
    const mod = url.protocol === 'https:' ? https : http;
    this.req = mod.request({
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port,
      method: start.method,
      path: start.path,
      headers,
      agent: mgr.agentFor(start.shadow),
    });
    this.req.on('error', (e) =>
      this.shadowDone({ error: e.message, timeout: (e as NodeJS.ErrnoException).code === 'ETIMEDOUT' }),
    );
    this.req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let truncated = false;
      res.on('data', (c: Buffer) => {
        if (truncated) return;
        size += c.length;
        if (size > this.limit) {
          truncated = true;
          chunks.length = 0;
        } else chunks.push(c);
      });
      res.on('end', () =>
        this.shadowDone({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks),
          truncated,
        }),
      );
      res.on('error', (e) => this.shadowDone({ error: e.message, timeout: false }));
    });
    this.timer = setTimeout(() => {
      const e = Object.assign(new Error(`shadow timed out after ${shadowCfg.timeoutMs} ms`), {
        code: 'ETIMEDOUT',
      });
      this.req.destroy(e);
    }, shadowCfg.timeoutMs);
    this.timer.unref();
    if (!this.hasBody) this.req.end();
  }

  /** Tee of the request body: written without waiting (the client never waits for the mirror). */
  write(chunk: Buffer): void {
    if (this.result) return;
    this.sent += chunk.length;
    if (this.sent > this.limit) {
      this.mgr.metrics.shadow.labels(this.start.route.id, 'dropped_body').inc();
      this.req.destroy(new Error('request body over the shadow limit'));
      return;
    }
    this.req.write(chunk);
  }

  end(): void {
    if (!this.result) this.req.end();
  }

  abort(reason: string): void {
    if (!this.result) this.req.destroy(new Error(reason));
  }

  setPrimary(primary: CapturedResponse | { error: string }): void {
    if (this.primary) return;
    this.primary = primary;
    this.finish();
  }

  private shadowDone(result: CapturedResponse | { error: string; timeout: boolean }): void {
    if (this.result) return;
    this.result = result;
    clearTimeout(this.timer);
    this.mgr.inFlight--;
    this.finish();
  }

  private finish(): void {
    if (this.finished || !this.result || !this.primary) return;
    this.finished = true;
    this.mgr.complete(this.start, this.primary, this.result);
  }
}

export class ShadowManager {
  inFlight = 0;
  readonly metrics: GatewayMetrics;
  readonly samples: SampleStore;
  readonly counts = new Map<string, ShadowCounts>();
  private readonly maxConcurrent: () => number;
  private readonly logger: Logger;
  private readonly agents = new Map<string, http.Agent>();
  private readonly onResult: (route: string, result: string, sample?: ShadowSample) => void;

  constructor(options: {
    metrics: GatewayMetrics;
    logger: Logger;
    maxConcurrent: () => number;
    maxSamples: () => number;
    onResult?: (route: string, result: string, sample?: ShadowSample) => void;
  }) {
    this.metrics = options.metrics;
    this.logger = options.logger;
    this.maxConcurrent = options.maxConcurrent;
    this.samples = new SampleStore(options.maxSamples);
    this.onResult = options.onResult ?? (() => {});
  }

  agentFor(backend: Backend): http.Agent {
    const key = backend.url.origin;
    let agent = this.agents.get(key);
    if (!agent) {
      const opts = {
        keepAlive: true,
        maxSockets: Math.max(1, this.maxConcurrent()),
        scheduling: 'lifo' as const,
      };
      agent = backend.url.protocol === 'https:' ? new https.Agent(opts) : new http.Agent(opts);
      this.agents.set(key, agent);
    }
    return agent;
  }

  countsFor(route: string): ShadowCounts {
    let c = this.counts.get(route);
    if (!c) {
      c = { mirrored: 0, matched: 0, mismatched: 0, errors: 0, dropped: 0 };
      this.counts.set(route, c);
    }
    return c;
  }

  /** Starts a mirror, or returns null when it is dropped (bounded, never queued). */
  start(start: ShadowStart): ShadowRun | null {
    const counts = this.countsFor(start.route.id);
    if (this.inFlight >= this.maxConcurrent()) {
      counts.dropped++;
      this.metrics.shadow.labels(start.route.id, 'dropped_concurrency').inc();
      this.onResult(start.route.id, 'dropped_concurrency');
      return null;
    }
    if (start.bodyLength > start.route.shadow!.maxBodyBytes) {
      counts.dropped++;
      this.metrics.shadow.labels(start.route.id, 'dropped_body').inc();
      this.onResult(start.route.id, 'dropped_body');
      return null;
    }
    this.inFlight++;
    counts.mirrored++;
    return new ShadowRun(this, start);
  }

  complete(
    start: ShadowStart,
    primary: CapturedResponse | { error: string },
    shadow: CapturedResponse | { error: string; timeout: boolean },
  ): void {
    const routeId = start.route.id;
    const counts = this.countsFor(routeId);
    let result: string;
    let sample: ShadowSample | undefined;
    if ('error' in shadow) {
      result = shadow.timeout ? 'timeout' : 'error';
      counts.errors++;
    } else if ('error' in primary) {
      result = 'primary_error';
    } else {
      const shadowCfg = start.route.shadow!;
      const differences = diffResponses(primary, shadow, {
        compareHeaders: shadowCfg.compareHeaders,
        ignore: shadowCfg.ignoreTests,
      });
      if (differences.length === 0) {
        result = 'match';
        counts.matched++;
      } else {
        result = 'mismatch';
        counts.mismatched++;
        this.metrics.shadowMismatches.labels(routeId).inc();
        sample = {
          id: `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`,
          route: routeId,
          at: new Date().toISOString(),
          method: start.method,
          path: start.path,
          requestId: start.requestId,
          primary: side(start.primaryBackend, primary, shadowCfg.compareHeaders),
          shadow: side(start.shadow.name, shadow, shadowCfg.compareHeaders),
          differences,
        };
        this.samples.add(sample);
        this.logger.debug(
          { route: routeId, requestId: start.requestId, differences: differences.length },
          'shadow mismatch',
        );
      }
    }
    this.metrics.shadow.labels(routeId, result).inc();
    this.onResult(routeId, result, sample);
  }

  close(): void {
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
  }
}

function side(backend: string, r: CapturedResponse, headerNames: readonly string[]): SampleSide {
  const headers: Record<string, string | string[] | undefined> = {};
  for (const h of new Set(['content-type', ...headerNames])) headers[h] = r.headers[h];
  const text = r.body.toString('utf8');
  return {
    backend,
    status: r.status,
    headers,
    body: text.length > SAMPLE_BODY_CHARS ? text.slice(0, SAMPLE_BODY_CHARS) : text,
    truncated: r.truncated || text.length > SAMPLE_BODY_CHARS,
  };
}
