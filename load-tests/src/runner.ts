// The Node runner: runs one catalogue scenario against one target with open-model pacing.
//
// Why undici (not autocannon): autocannon is a closed-model tool (N connections, each sends
// the next request when the previous answered; its rate limit only slows connections down),
// so a slow server silently lowers the offered load and hides its own latency: coordinated
// omission. Here every iteration starts at a time fixed in advance by the arrival schedule
// (pacing.ts), independent of responses, and its latency is measured from that INTENDED
// start, so any time a request waited because the generator or the server fell behind is
// counted. undici's Pool gives keep-alive connections (one per virtual user, as k6 does) and
// streaming bodies, which the multi-step auth chain and the SSE subscription need.
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import {
  applyCaptures,
  judgeResponse,
  loadDurationMs,
  loadFor,
  parseDuration,
  renderStep,
  resolveVars,
  thresholdsFor,
  type Mode,
  type TemplateContext,
} from '../k6/lib/core.js';
import type { Catalogue, Scenario, Step, Target } from './catalogue.ts';
import { type LatencySummary, LatencyHistogram } from './histogram.ts';
import { BACKEND_HEADERS } from './metrics.ts';
import { arrivalOffsetsMs, runSchedule } from './pacing.ts';

export interface RunOptions {
  catalogue: Catalogue;
  scenario: Scenario;
  target: Target;
  baseUrl: string;
  mode: Mode;
  /** Aborts the run early (counts in-flight iterations as interrupted). */
  signal?: AbortSignal;
  /** Environment for VAR_<name> overrides of catalogue vars (default process.env). */
  env?: Record<string, string | undefined>;
}

export interface StepResult {
  requests: number;
  errors: number;
  latency: LatencySummary;
}

export interface ThresholdVerdict {
  limit: number;
  actual: number;
  ok: boolean;
}

export interface RunResult {
  scenario: string;
  route: string;
  target: Target;
  baseUrl: string;
  mode: Mode;
  executor: string;
  startedAt: string;
  /** From the first scheduled arrival to the last completion, ms. */
  elapsedMs: number;
  /** Iterations the schedule offered, started, finished, dropped (no free VU), interrupted (hard stop). */
  iterations: { offered: number; started: number; completed: number; dropped: number; interrupted: number };
  requests: number;
  /** Failed requests + dropped + interrupted iterations. */
  errors: number;
  errorRate: number;
  /** Completed requests per second over elapsedMs. */
  throughput: number;
  statusCodes: Record<string, number>;
  errorKinds: Record<string, number>;
  errorSamples: string[];
  latency: LatencySummary;
  /** [percentile, ms] pairs for charts. */
  curve: Array<[number, number]>;
  /** Compressed HdrHistogram (microseconds) of every request latency. */
  histogram: string;
  steps: Record<string, StepResult>;
  /** Per second of the run: completed requests, errors, p50 and p99 (ms) of those requests. */
  timeline: Array<{ second: number; requests: number; errors: number; p50: number; p99: number }>;
  /** How late the generator started iterations (ms): high values mean the load machine was the bottleneck. */
  generatorLag: { p99: number; max: number };
  /** Values of the gateway's backend header (BACKEND_HEADERS), when present. */
  servedBy: Record<string, number>;
  sse?: { subscriptions: number; events: number };
  thresholds: { p95: ThresholdVerdict; p99: ThresholdVerdict; errorRate: ThresholdVerdict; ok: boolean };
  /** Filled in by compare from the services' /metrics (null: not exposed). */
  upstreamCalls: number | null;
}

const LOOPBACK = /^(127(\.\d{1,3}){3}|localhost|\[::1\]|::1)$/;

export function assertLoopback(baseUrl: string): URL {
  const url = new URL(baseUrl);
  if (!LOOPBACK.test(url.hostname)) {
    throw new Error(
      `refusing to load ${baseUrl}: load runs only target this machine (127.0.0.1, localhost, [::1])`,
    );
  }
  if (url.protocol !== 'http:') throw new Error(`only http:// targets are supported, got ${baseUrl}`);
  return url;
}

interface Outcome {
  status: number | null;
  failure: string | null;
  latencyMs: number | null;
  interrupted: boolean;
  bodySnippet?: string;
}

export async function runScenario(options: RunOptions): Promise<RunResult> {
  const { catalogue, scenario, target, mode } = options;
  const url = assertLoopback(options.baseUrl);
  const basePath = url.pathname.replace(/\/+$/, '');
  const load = loadFor(catalogue, scenario, mode);
  const durationMs = loadDurationMs(load);
  const gracefulStopMs = parseDuration(catalogue.defaults.gracefulStop);
  const maxVUs = load.executor === 'constant-vus' ? load.vus : (load.maxVUs ?? 100);
  const vars = resolveVars(catalogue.vars, options.env ?? process.env);

  const pool = new Pool(url.origin, { connections: maxVUs, pipelining: 1, keepAliveTimeout: 10_000 });
  const stop = new AbortController();
  const onOuterAbort = () => stop.abort();
  options.signal?.addEventListener('abort', onOuterAbort, { once: true });
  if (options.signal?.aborted) stop.abort();

  const all = new LatencyHistogram();
  const lag = new LatencyHistogram();
  const perStep = new Map<string, { requests: number; errors: number; hist: LatencyHistogram }>();
  for (const step of scenario.steps)
    perStep.set(step.name, { requests: 0, errors: 0, hist: new LatencyHistogram() });
  const seconds: Array<{ requests: number; errors: number; hist: LatencyHistogram }> = [];
  const statusCodes: Record<string, number> = {};
  const errorKinds: Record<string, number> = {};
  const errorSamples: string[] = [];
  const servedBy: Record<string, number> = {};
  const counts = { offered: 0, started: 0, completed: 0, dropped: 0, interrupted: 0 };
  let requests = 0;
  let failedRequests = 0;
  let lastCompletion = 0;
  const sse = { subscriptions: 0, events: 0 };

  const t0 = performance.now() + 20;
  const startedAt = new Date(Date.now() + 20).toISOString();

  const bump = (map: Record<string, number>, key: string) => {
    map[key] = (map[key] ?? 0) + 1;
  };
  const noteError = (kind: string, sample: string) => {
    bump(errorKinds, kind);
    if (errorSamples.length < 10 && !errorSamples.some((s) => s.startsWith(`${kind}:`)))
      errorSamples.push(`${kind}: ${sample}`);
  };

  const record = (step: Step, outcome: Outcome, endedAt: number) => {
    requests += 1;
    lastCompletion = Math.max(lastCompletion, endedAt);
    const stats = perStep.get(step.name)!;
    stats.requests += 1;
    if (outcome.status !== null) bump(statusCodes, String(outcome.status));
    const second = Math.max(0, Math.floor((endedAt - t0) / 1000));
    while (seconds.length <= second) seconds.push({ requests: 0, errors: 0, hist: new LatencyHistogram() });
    const bucket = seconds[second]!;
    bucket.requests += 1;
    if (outcome.latencyMs !== null) {
      all.record(outcome.latencyMs);
      stats.hist.record(outcome.latencyMs);
      bucket.hist.record(outcome.latencyMs);
    }
    if (outcome.failure) {
      failedRequests += 1;
      stats.errors += 1;
      bucket.errors += 1;
      noteError(
        `${step.name} ${outcome.failure}`,
        `${step.method} ${step.path}${outcome.bodySnippet ? ` → ${outcome.bodySnippet}` : ''}`,
      );
    }
  };

  const send = async (step: Step, ctx: TemplateContext, startedAtMs: number): Promise<Outcome> => {
    const req = renderStep(step, ctx, catalogue.defaults.timeout, mode);
    const hold = step.sse ? new AbortController() : null;
    const signals = [stop.signal];
    if (hold) signals.push(hold.signal);
    else signals.push(AbortSignal.timeout(req.timeoutMs));
    try {
      const res = await pool.request({
        path: basePath + req.path,
        method: req.method as 'GET',
        headers: req.headers,
        body: req.body ?? undefined,
        signal: AbortSignal.any(signals),
        headersTimeout: req.timeoutMs,
        bodyTimeout: hold ? 0 : req.timeoutMs,
      });
      const headersAt = performance.now();
      for (const name of BACKEND_HEADERS) {
        const value = res.headers[name];
        if (value !== undefined) {
          bump(servedBy, String(value));
          break;
        }
      }
      const contentType = res.headers['content-type'];
      const failure = judgeResponse(
        step,
        res.statusCode,
        Array.isArray(contentType) ? contentType[0] : contentType,
      );
      if (hold) {
        sse.subscriptions += 1;
        if (failure) {
          const text = await res.body.text().catch(() => '');
          return {
            status: res.statusCode,
            failure,
            latencyMs: headersAt - startedAtMs,
            interrupted: false,
            bodySnippet: text.slice(0, 160),
          };
        }
        // Hold the subscription open for `hold`, counting events; the server may end it earlier.
        const timer = setTimeout(
          () => hold.abort(),
          Math.max(0, req.holdMs - (performance.now() - startedAtMs)),
        );
        let streamFailure: string | null = null;
        try {
          for await (const chunk of res.body) sse.events += countEvents(String(chunk));
        } catch (error) {
          if (!hold.signal.aborted && !stop.signal.aborted)
            streamFailure = `stream broke (${errorKind(error)})`;
        } finally {
          clearTimeout(timer);
        }
        return {
          status: res.statusCode,
          failure: streamFailure,
          latencyMs: headersAt - startedAtMs,
          interrupted: false,
        };
      }
      const text = await res.body.text();
      const endedAt = performance.now();
      const captureFailure = failure ? null : applyCaptures(step, text, ctx);
      return {
        status: res.statusCode,
        failure: failure ?? captureFailure,
        latencyMs: endedAt - startedAtMs,
        interrupted: false,
        bodySnippet: failure || captureFailure ? text.slice(0, 160) : undefined,
      };
    } catch (error) {
      if (stop.signal.aborted) return { status: null, failure: null, latencyMs: null, interrupted: true };
      const kind = errorKind(error);
      // A timeout is a (very) slow response: keep its latency, so the histogram cannot look
      // better than what a client lived through. Refused/reset connections have no latency.
      const latencyMs = kind === 'timeout' ? performance.now() - startedAtMs : null;
      return { status: null, failure: kind, latencyMs, interrupted: false };
    }
  };

  const iterate = async (vu: number, iter: number, intendedMs: number): Promise<void> => {
    counts.started += 1;
    lag.record(Math.max(0, performance.now() - intendedMs));
    const ctx: TemplateContext = { vars, captures: {}, vu, iter };
    let stepStart = intendedMs;
    for (const step of scenario.steps) {
      let outcome: Outcome;
      try {
        outcome = await send(step, ctx, stepStart);
      } catch (error) {
        outcome = {
          status: null,
          failure: `template: ${(error as Error).message}`,
          latencyMs: null,
          interrupted: false,
        };
      }
      if (outcome.interrupted) {
        counts.interrupted += 1;
        bump(errorKinds, 'interrupted at graceful stop');
        return;
      }
      record(step, outcome, performance.now());
      if (outcome.failure) break;
      stepStart = performance.now();
    }
    counts.completed += 1;
  };

  const hardStop = setTimeout(() => stop.abort(), durationMs + gracefulStopMs + 20);
  const inFlight = new Set<Promise<void>>();
  try {
    if (load.executor === 'constant-vus') {
      const loops: Promise<void>[] = [];
      for (let vu = 1; vu <= load.vus; vu++) {
        loops.push(
          (async () => {
            let iter = 0;
            while (!stop.signal.aborted && performance.now() < t0 + durationMs) {
              await iterate(vu, iter, Math.max(performance.now(), t0));
              iter += 1;
            }
          })(),
        );
      }
      await Promise.all(loops);
      counts.offered = counts.started;
    } else {
      const offsets = arrivalOffsetsMs(load);
      counts.offered = offsets.length;
      const free: number[] = [];
      for (let vu = maxVUs; vu >= 1; vu--) free.push(vu);
      const perVuIter = new Map<number, number>();
      await runSchedule(
        offsets,
        t0,
        (_index, intendedMs) => {
          const vu = free.pop();
          if (vu === undefined) {
            counts.dropped += 1;
            bump(errorKinds, 'dropped (all maxVUs busy)');
            return;
          }
          const iter = perVuIter.get(vu) ?? 0;
          perVuIter.set(vu, iter + 1);
          const p = iterate(vu, iter, intendedMs).finally(() => {
            free.push(vu);
            inFlight.delete(p);
          });
          inFlight.add(p);
        },
        { signal: stop.signal },
      );
      await Promise.all(inFlight);
    }
  } finally {
    clearTimeout(hardStop);
    options.signal?.removeEventListener('abort', onOuterAbort);
    if (stop.signal.aborted) await pool.destroy();
    else await pool.close();
  }

  // Throughput is over the scheduled window, or longer when responses kept arriving after it.
  const elapsedMs = Math.max(1, durationMs, (lastCompletion || performance.now()) - t0);
  const latency = all.summary();
  const errors = failedRequests + counts.dropped + counts.interrupted;
  const attempts = requests + counts.dropped + counts.interrupted;
  const errorRate = attempts === 0 ? 0 : errors / attempts;
  const limits = thresholdsFor(catalogue, scenario);
  const p95 = {
    limit: limits.p95Ms,
    actual: latency.p95,
    ok: latency.count > 0 && latency.p95 < limits.p95Ms,
  };
  const p99 = {
    limit: limits.p99Ms,
    actual: latency.p99,
    ok: latency.count > 0 && latency.p99 < limits.p99Ms,
  };
  const errorVerdict = { limit: limits.errorRate, actual: errorRate, ok: errorRate <= limits.errorRate };
  const steps: Record<string, StepResult> = {};
  for (const [name, stats] of perStep) {
    steps[name] = { requests: stats.requests, errors: stats.errors, latency: stats.hist.summary() };
  }
  const lagSummary = lag.summary();
  return {
    scenario: scenario.name,
    route: scenario.route,
    target,
    baseUrl: options.baseUrl,
    mode,
    executor: load.executor,
    startedAt,
    elapsedMs: Math.round(elapsedMs),
    iterations: counts,
    requests,
    errors,
    errorRate,
    throughput: Math.round((requests / (elapsedMs / 1000)) * 100) / 100,
    statusCodes,
    errorKinds,
    errorSamples,
    latency,
    curve: all.curve(),
    histogram: all.encode(),
    steps,
    timeline: seconds.map((bucket, second) => ({
      second,
      requests: bucket.requests,
      errors: bucket.errors,
      p50: round(bucket.hist.percentile(50)),
      p99: round(bucket.hist.percentile(99)),
    })),
    generatorLag: { p99: lagSummary.p99, max: lagSummary.max },
    servedBy,
    ...(sse.subscriptions > 0 ? { sse } : {}),
    thresholds: { p95, p99, errorRate: errorVerdict, ok: p95.ok && p99.ok && errorVerdict.ok },
    upstreamCalls: null,
  };
}

/** Number of complete server-sent events in a chunk (events end with a blank line). */
export function countEvents(chunk: string): number {
  const matches = chunk.replace(/\r\n/g, '\n').match(/\n\n/g);
  return matches ? matches.length : 0;
}

function errorKind(error: unknown): string {
  const e = error as { name?: string; code?: string; message?: string };
  if (
    e.name === 'TimeoutError' ||
    e.code === 'UND_ERR_HEADERS_TIMEOUT' ||
    e.code === 'UND_ERR_BODY_TIMEOUT'
  ) {
    return 'timeout';
  }
  if (e.code) return `network ${e.code}`;
  return e.message ?? String(error);
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
