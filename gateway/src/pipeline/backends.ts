import http, { type ClientRequest, type OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';
import type { Logger } from 'pino';
import type { BackendConfig } from '../config/schema.ts';
import type { BackendSpec } from '../table.ts';
import { type Availability, type EjectReason, Outlier } from './outlier.ts';
import { type Waiting, WaitingList } from './waiting.ts';

export type { Waiting };

/**
 * A backend at run time: its connection budgets, its availability (active health checks and
 * passive outlier detection in one state, see outlier.ts) and the requests waiting on it.
 *
 * Connection budgets (Envoy's per-priority circuit breakers): ordinary requests and streams
 * (`stream: true` routes) each have their own keep-alive agent and their own budget, so open
 * streams can never take the sockets short requests need. A request over budget waits in a
 * FIFO queue for at most `queueTimeoutMs`, then is handed back (fallback or a fast 503).
 *
 * The pool's sweep (every 100 ms) expires queued requests, enforces response head deadlines
 * (`timeoutMs` once the request was sent) and detects a stall: requests waiting longer than
 * `outlier.stallMs` while the backend answered nothing at all in that time (no response head,
 * no health check). A stall triggers one probe of the health path; no answer → ejected.
 */
export interface HealthEvents {
  onState(backend: Backend, status: Availability, reason: EjectReason | null): void;
}

/** A request queued for a connection. */
export interface Queued {
  queuedAt: number;
  /** Set when the request went away (client closed) while queued: skipped. */
  dead: boolean;
  /** A connection is free: forward now. */
  go(): void;
  /** Waited `queueTimeoutMs`. */
  expire(): void;
}

export class Budget {
  readonly max: number;
  active = 0;
  private readonly queue: Queued[] = [];

  constructor(max: number) {
    this.max = max;
  }

  get queued(): number {
    return this.queue.length;
  }

  /** Takes a slot if one is free. */
  tryAcquire(): boolean {
    if (this.active >= this.max) return false;
    this.active++;
    return true;
  }

  /** Waits for a slot: `go` is called when one is handed over, or `expire` after the queue timeout. */
  enqueue(q: Queued): void {
    this.queue.push(q);
  }

  /** Gives the slot back, or straight to the next live request in the queue. */
  release(): void {
    let next = this.queue.shift();
    while (next?.dead) next = this.queue.shift();
    if (next) next.go();
    else this.active--;
  }

  expire(now: number, timeoutMs: number): void {
    while (this.queue.length > 0) {
      const head = this.queue[0]!;
      if (!head.dead && now - head.queuedAt < timeoutMs) return;
      this.queue.shift();
      if (!head.dead) head.expire();
    }
  }
}

export class Backend {
  readonly name: string;
  readonly url: URL;
  readonly config: BackendConfig;
  readonly agent: http.Agent;
  readonly streamAgent: http.Agent;
  readonly budget: Budget;
  readonly streamBudget: Budget;
  readonly outlier: Outlier;
  /** Requests sent and waiting for their response head. */
  readonly waiting = new WaitingList<Waiting>();
  /** Last time the backend answered anything (a response head, a health check). */
  lastProgress = Date.now();
  lastCheck: { at: string; ok: boolean; detail: string } | null = null;
  private passes = 0;
  private fails = 0;
  private timer: NodeJS.Timeout | null = null;
  private checking: ClientRequest | null = null;
  private probing = false;
  private readonly logger: Logger;
  /** The request target's parts, worked out once: forwarding a request builds no URL. */
  private readonly hostname: string;
  private readonly port: number;
  private readonly basePath: string;
  private readonly baseSearch: string;
  private readonly send: typeof http.request;
  /** The Host header requests to this backend carry (the client's goes in X-Forwarded-Host). */
  readonly host: string;
  /** `url.origin`, worked out once (URL's getter builds the string on every read). */
  readonly origin: string;

  constructor(spec: BackendSpec, events: HealthEvents, logger: Logger) {
    this.name = spec.name;
    this.url = spec.url;
    this.config = spec.config;
    this.logger = logger;
    const tls = spec.url.protocol === 'https:';
    this.hostname = spec.url.hostname.replace(/^\[(.*)\]$/, '$1');
    this.port = Number(spec.url.port) || (tls ? 443 : 80);
    this.host = spec.url.host;
    this.origin = spec.url.origin;
    this.basePath = spec.url.pathname.replace(/\/+$/, '');
    this.baseSearch = spec.url.search;
    this.send = tls ? https.request : http.request;
    const agentFor = (maxSockets: number) => {
      const options: http.AgentOptions = {
        keepAlive: true,
        maxSockets,
        maxFreeSockets: maxSockets,
        scheduling: 'lifo',
        // idle sockets close well before a backend's own keep-alive timeout (Node's 5 s), so the
        // gateway rarely reuses a socket the backend is closing; Node also honours Keep-Alive hints
        timeout: spec.config.idleSocketMs,
      };
      return spec.url.protocol === 'https:' ? new https.Agent(options) : new http.Agent(options);
    };
    this.agent = agentFor(spec.config.maxSockets);
    this.streamAgent = agentFor(spec.config.maxStreams);
    this.budget = new Budget(spec.config.maxSockets);
    this.streamBudget = new Budget(spec.config.maxStreams);
    this.outlier = new Outlier(spec.config.outlier, (status, reason) => events.onState(this, status, reason));
  }

  /**
   * Opens a request to this backend on its keep-alive agent (the stream pool's for stream
   * routes). `path` is the normalised path and query; a backend URL's own path is put in front
   * of it and its query after it, as proxies do.
   */
  request(method: string, path: string, headers: OutgoingHttpHeaders, stream: boolean): ClientRequest {
    let target = this.basePath === '' ? path : this.basePath + path;
    if (this.baseSearch !== '') {
      target = target.includes('?') ? target.replace('?', `${this.baseSearch}&`) : target + this.baseSearch;
    }
    return this.send({
      hostname: this.hostname,
      port: this.port,
      method,
      path: target,
      headers: headerList(headers, this.host),
      agent: stream ? this.streamAgent : this.agent,
    });
  }

  /** Takes traffic now? (down → recovering once its ejection is over; no share slot taken) */
  available(now = Date.now()): boolean {
    return this.outlier.available(now);
  }

  /** Admits a request (a half-open share slot when recovering). */
  admit(now = Date.now()): boolean {
    return this.outlier.admit(now);
  }

  get healthy(): boolean {
    return this.outlier.status !== 'down';
  }

  startChecks(): void {
    const hc = this.config.healthCheck;
    if (!hc.enabled || this.timer) return;
    this.timer = setInterval(() => this.tick(), hc.intervalMs);
    this.timer.unref();
    void this.check();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.checking?.destroy();
  }

  /** Closes the pools once requests still using them are done (grace in ms). */
  retire(graceMs: number): void {
    this.stop();
    const t = setTimeout(() => {
      this.agent.destroy();
      this.streamAgent.destroy();
    }, graceMs);
    t.unref();
  }

  destroy(): void {
    this.stop();
    this.agent.destroy();
    this.streamAgent.destroy();
  }

  /** One GET of the health path; resolves with whether it passed and why. */
  private ping(): { req: ClientRequest; done: Promise<{ ok: boolean; detail: string }> } {
    const hc = this.config.healthCheck;
    const mod = this.url.protocol === 'https:' ? https : http;
    let req!: ClientRequest;
    const done = new Promise<{ ok: boolean; detail: string }>((resolve) => {
      let settled = false;
      const finish = (ok: boolean, detail: string) => {
        if (settled) return;
        settled = true;
        resolve({ ok, detail });
      };
      req = mod.request(
        new URL(hc.path, this.url),
        { method: 'GET', agent: false, headers: { 'user-agent': 'pilot-gateway-health' } },
        (res) => {
          // any answer proves the process is alive, whatever it says about its dependencies
          this.lastProgress = Date.now();
          res.resume();
          const ok = (res.statusCode ?? 500) < 400;
          res.on('end', () => finish(ok, `HTTP ${res.statusCode}`));
          res.on('error', (e) => finish(false, e.message));
        },
      );
      req.setTimeout(hc.timeoutMs, () => req.destroy(new Error(`timeout after ${hc.timeoutMs} ms`)));
      req.on('error', (e) => finish(false, e.message));
      req.end();
    });
    return { req, done };
  }

  /**
   * A check still unanswered when the next one is due has failed (its timeout is at most the
   * interval): a hung backend fails a check every interval instead of one per timeout + interval.
   */
  private tick(): void {
    const pending = this.checking;
    if (pending) {
      this.checking = null;
      pending.destroy(new Error(`no answer within ${this.config.healthCheck.intervalMs} ms`));
    }
    void this.check();
  }

  /** The periodic active check; crossing a threshold changes the verdict. */
  async check(): Promise<boolean> {
    if (this.checking) return this.healthy;
    const { req, done } = this.ping();
    this.checking = req;
    const { ok, detail } = await done;
    if (this.checking === req) this.checking = null;
    this.lastCheck = { at: new Date().toISOString(), ok, detail };
    const hc = this.config.healthCheck;
    const now = Date.now();
    if (ok) {
      this.fails = 0;
      this.passes++;
      if (!this.outlier.healthOk && this.passes >= hc.healthyThreshold) this.outlier.health(true, now);
      else this.outlier.healthPass();
    } else {
      this.passes = 0;
      this.fails++;
      if (this.outlier.healthOk && this.fails >= hc.unhealthyThreshold) this.outlier.health(false, now);
    }
    return this.healthy;
  }

  /** Called by the sweep: expire queued requests, enforce head deadlines, detect a stall. */
  sweep(now: number, onHeadTimeout: (w: Waiting) => void): void {
    this.outlier.refresh(now);
    this.budget.expire(now, this.config.queueTimeoutMs);
    this.streamBudget.expire(now, this.config.queueTimeoutMs);
    if (this.waiting.size === 0) return;
    let oldest = now;
    for (const w of this.waiting.snapshot()) {
      if (!this.waiting.has(w)) continue; // gone meanwhile (a head timeout's side effects)
      if (w.sentAt === 0) {
        if (!w.proxyReq?.writableFinished) continue;
        w.sentAt = now;
      }
      if (w.headTimeoutMs > 0 && now - w.sentAt >= w.headTimeoutMs) {
        this.waiting.delete(w);
        onHeadTimeout(w);
        continue;
      }
      if (w.sentAt < oldest) oldest = w.sentAt;
    }
    const stallMs = this.config.outlier.stallMs;
    if (
      stallMs > 0 &&
      !this.probing &&
      this.outlier.status !== 'down' &&
      now - oldest >= stallMs &&
      now - this.lastProgress >= stallMs
    ) {
      void this.probeStall();
    }
  }

  /** Requests wait and nothing answers: ask the health path right now, eject if it is silent too. */
  private async probeStall(): Promise<void> {
    this.probing = true;
    try {
      const { ok, detail } = await this.ping().done;
      const silent = !ok && !detail.startsWith('HTTP ');
      if (silent && Date.now() - this.lastProgress >= this.config.outlier.stallMs) {
        this.logger.warn(
          { backend: this.name, probe: detail },
          'backend stalled: requests waiting, nothing answers',
        );
        this.outlier.stalled(Date.now());
      }
    } finally {
      this.probing = false;
    }
  }

  view() {
    const o = this.outlier;
    return {
      url: this.url.href,
      healthy: this.healthy,
      available: this.available(),
      state: o.status,
      breaker: o.status === 'up' ? 'closed' : o.status === 'down' ? 'open' : 'half-open',
      breakerOpens: o.totalEjections,
      ejection:
        o.status === 'up'
          ? null
          : {
              reason: o.reason,
              at: new Date(o.ejectedAt).toISOString(),
              until: new Date(Math.max(o.ejectedUntil, o.ejectedAt)).toISOString(),
              inARow: o.ejectionsInARow,
            },
      lastCheck: this.lastCheck,
      connections: {
        active: this.budget.active,
        max: this.budget.max,
        queued: this.budget.queued,
        streams: this.streamBudget.active,
        maxStreams: this.streamBudget.max,
        streamsQueued: this.streamBudget.queued,
      },
    };
  }
}

/** Keeps one Backend per name, reusing it across reloads while its URL and settings stay the same. */
export class BackendPool {
  readonly byName = new Map<string, Backend>();
  private readonly events: HealthEvents;
  private readonly checks: boolean;
  private readonly logger: Logger;
  private readonly timer: NodeJS.Timeout;
  private onHeadTimeout: (backend: Backend, w: Waiting) => void = () => {};

  constructor(events: HealthEvents, checks: boolean, logger: Logger) {
    this.events = events;
    this.checks = checks;
    this.logger = logger;
    this.timer = setInterval(() => this.sweep(), 100);
    this.timer.unref();
  }

  /** Who answers a request whose response head is overdue (the gateway: 504 or fallback). */
  setHeadTimeoutHandler(fn: (backend: Backend, w: Waiting) => void): void {
    this.onHeadTimeout = fn;
  }

  sweep(now = Date.now()): void {
    for (const backend of this.byName.values()) {
      backend.sweep(now, (w) => this.onHeadTimeout(backend, w));
    }
  }

  sync(specs: Map<string, BackendSpec>, graceMs: number): void {
    for (const [name, spec] of specs) {
      const current = this.byName.get(name);
      if (
        current &&
        current.url.href === spec.url.href &&
        JSON.stringify(current.config) === JSON.stringify(spec.config)
      ) {
        continue;
      }
      if (current) current.retire(graceMs);
      const backend = new Backend(spec, this.events, this.logger);
      this.byName.set(name, backend);
      this.logger.info({ backend: name, url: spec.url.href }, 'backend configured');
      if (this.checks) backend.startChecks();
    }
    for (const [name, backend] of this.byName) {
      if (!specs.has(name)) {
        backend.retire(graceMs);
        this.byName.delete(name);
      }
    }
  }

  get(name: string): Backend | undefined {
    return this.byName.get(name);
  }

  close(): void {
    clearInterval(this.timer);
    for (const backend of this.byName.values()) backend.destroy();
  }
}

/**
 * The request's headers as the flat name/value list Node takes (the form of `rawHeaders`): Node
 * then writes them as given, each still validated, instead of storing each one with setHeader
 * (a lower-cased copy of the name in a dictionary-mode object, read back to write the head).
 * Node adds no Host to such a list, so one is added when the headers carry none.
 */
function headerList(headers: OutgoingHttpHeaders, host: string): string[] {
  const list: string[] = headers.host === undefined ? ['host', host] : [];
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    if (typeof value === 'string') list.push(name, value);
    else if (typeof value === 'number') list.push(name, String(value));
    else for (const one of value) list.push(name, one); // a repeated header, as it came
  }
  return list;
}
