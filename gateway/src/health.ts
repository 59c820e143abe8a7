import http from 'node:http';
import https from 'node:https';
import type { Logger } from 'pino';
import { Breaker, type BreakerState } from './breaker.ts';
import type { BackendConfig } from './config/schema.ts';
import type { BackendSpec } from './table.ts';

/**
 * Backend runtime state: the keep-alive pool, active health checks (a GET on the backend's
 * health path every `intervalMs`) and the breaker fed by live traffic (passive ejection).
 * A backend takes traffic while it is healthy and its breaker allows it.
 * The runtime survives table reloads as long as the backend's URL does not change.
 */
export interface HealthEvents {
  onHealth(backend: string, healthy: boolean): void;
  onBreaker(backend: string, state: BreakerState): void;
}

export class Backend {
  readonly name: string;
  readonly url: URL;
  readonly config: BackendConfig;
  readonly agent: http.Agent;
  readonly breaker: Breaker;
  /** Active health: optimistic until checks say otherwise. */
  healthy = true;
  lastCheck: { at: string; ok: boolean; detail: string } | null = null;
  private passes = 0;
  private fails = 0;
  private timer: NodeJS.Timeout | null = null;
  private checking: http.ClientRequest | null = null;
  private readonly events: HealthEvents;

  constructor(spec: BackendSpec, events: HealthEvents) {
    this.name = spec.name;
    this.url = spec.url;
    this.config = spec.config;
    this.events = events;
    const agentOptions: http.AgentOptions = {
      keepAlive: true,
      maxSockets: spec.config.maxSockets,
      maxFreeSockets: spec.config.maxSockets,
      scheduling: 'lifo',
      // idle sockets close well before a backend's own keep-alive timeout (Node's 5 s), so the
      // gateway rarely reuses a socket the backend is closing; Node also honours Keep-Alive hints
      timeout: spec.config.idleSocketMs,
    };
    this.agent =
      spec.url.protocol === 'https:' ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
    this.breaker = new Breaker(spec.config.breaker, (state) => events.onBreaker(this.name, state));
  }

  /** Peek: would a request be admitted now? (No side effects; see Breaker.allow.) */
  available(): boolean {
    return this.healthy && this.breaker.peek();
  }

  /** Admits a request (takes the half-open probe slot when there is one). */
  admit(): boolean {
    return this.healthy && this.breaker.allow();
  }

  startChecks(): void {
    const hc = this.config.healthCheck;
    if (!hc.enabled || this.timer) return;
    this.timer = setInterval(() => this.check(), hc.intervalMs);
    this.timer.unref();
    this.check();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.checking?.destroy();
  }

  /** Closes the pool once requests still using it are done (grace in ms). */
  retire(graceMs: number): void {
    this.stop();
    const t = setTimeout(() => this.agent.destroy(), graceMs);
    t.unref();
  }

  check(): Promise<boolean> {
    const hc = this.config.healthCheck;
    if (this.checking) return Promise.resolve(this.healthy);
    return new Promise((resolve) => {
      const mod = this.url.protocol === 'https:' ? https : http;
      const target = new URL(hc.path, this.url);
      let settled = false;
      const done = (ok: boolean, detail: string) => {
        if (settled) return;
        settled = true;
        this.checking = null;
        this.lastCheck = { at: new Date().toISOString(), ok, detail };
        this.observe(ok);
        resolve(this.healthy);
      };
      const req = mod.request(
        target,
        { method: 'GET', agent: false, headers: { 'user-agent': 'pilot-gateway-health' } },
        (res) => {
          res.resume();
          const ok = (res.statusCode ?? 500) < 400;
          res.on('end', () => done(ok, `HTTP ${res.statusCode}`));
          res.on('error', (e) => done(false, e.message));
        },
      );
      this.checking = req;
      req.setTimeout(hc.timeoutMs, () => req.destroy(new Error(`timeout after ${hc.timeoutMs} ms`)));
      req.on('error', (e) => done(false, e.message));
      req.end();
    });
  }

  private observe(ok: boolean): void {
    const hc = this.config.healthCheck;
    if (ok) {
      this.fails = 0;
      this.passes++;
      if (!this.healthy && this.passes >= hc.healthyThreshold) this.setHealthy(true);
    } else {
      this.passes = 0;
      this.fails++;
      if (this.healthy && this.fails >= hc.unhealthyThreshold) this.setHealthy(false);
    }
  }

  private setHealthy(healthy: boolean): void {
    this.healthy = healthy;
    this.events.onHealth(this.name, healthy);
  }

  view() {
    return {
      url: this.url.href,
      healthy: this.healthy,
      available: this.available(),
      breaker: this.breaker.state,
      breakerOpens: this.breaker.opens,
      lastCheck: this.lastCheck,
    };
  }
}

/** Keeps one Backend per name, reusing it across reloads while its URL and settings stay the same. */
export class BackendPool {
  readonly byName = new Map<string, Backend>();
  private readonly events: HealthEvents;
  private readonly checks: boolean;
  private readonly logger: Logger;

  constructor(events: HealthEvents, checks: boolean, logger: Logger) {
    this.events = events;
    this.checks = checks;
    this.logger = logger;
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
      const backend = new Backend(spec, this.events);
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
    for (const backend of this.byName.values()) {
      backend.stop();
      backend.agent.destroy();
    }
  }
}
