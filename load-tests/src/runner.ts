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
  capacityVerdict,
  judgePhase,
  type PhaseResult,
  SPIKE_HOLD_SECONDS,
  soakVerdict,
  spikeVerdict,
} from '../k6/lib/analysis.js';
import {
  applyCaptures,
  countEvents,
  judgeResponse,
  loadDurationMs,
  loadFor,
  type Mode,
  parseDuration,
  renderStep,
  resolveVars,
  type TemplateContext,
  thresholdsFor,
} from '../k6/lib/core.js';
import { CAPACITY_DEFAULTS, kindOf, type Phase, phasesFor, timelineBucketMs } from '../k6/lib/kinds.js';
import type { Catalogue, Scenario, Step, Target } from './catalogue.ts';
import { generatorBetween, phaseProcesses, type ResourceSeries, runCost } from './cost.ts';
import { LatencyHistogram } from './histogram.ts';
import { BACKEND_HEADERS } from './metrics.ts';
import type { Kind, RunResult, StepResult, TimelinePoint } from './model.ts';
import { generatorOnlyMonitor, type ResourceMonitor } from './monitor.ts';
import { arrivalOffsetsMs, runSchedule } from './pacing.ts';

export { countEvents };
export type { RunResult, StepResult };

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
  /** Samples CPU and RSS during the run (default: the generator only). */
  monitor?: ResourceMonitor;
  /** Repeat round this run belongs to (default 1). */
  round?: number;
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

interface Bucket {
  offered: number;
  started: number;
  completed: number;
  dropped: number;
  requests: number;
  errors: number;
  hist: LatencyHistogram;
}

interface PhaseStats extends Bucket {
  phase: Phase;
  interrupted: number;
  inFlight: number;
  lag: LatencyHistogram;
  settled: boolean;
}

const newBucket = (): Bucket => ({
  offered: 0,
  started: 0,
  completed: 0,
  dropped: 0,
  requests: 0,
  errors: 0,
  hist: new LatencyHistogram(),
});

export async function runScenario(options: RunOptions): Promise<RunResult> {
  const { catalogue, scenario, target, mode } = options;
  const url = assertLoopback(options.baseUrl);
  const basePath = url.pathname.replace(/\/+$/, '');
  const kind = kindOf(scenario) as Kind;
  const load = loadFor(catalogue, scenario, mode);
  const durationMs = loadDurationMs(load);
  const gracefulStopMs = parseDuration(catalogue.defaults.gracefulStop);
  const maxVUs = load.executor === 'constant-vus' ? load.vus : (load.maxVUs ?? 100);
  const vars = resolveVars(catalogue.vars, options.env ?? process.env);
  const limits = thresholdsFor(catalogue, scenario);
  const bucketMs = timelineBucketMs(durationMs);
  const phaseList = mode === 'warmup' ? [] : phasesFor(catalogue, scenario, mode);
  const monitor = options.monitor ?? generatorOnlyMonitor();

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
  const buckets: Bucket[] = [];
  const phases: PhaseStats[] = phaseList.map((phase) => ({
    ...newBucket(),
    phase,
    interrupted: 0,
    inFlight: 0,
    lag: new LatencyHistogram(),
    settled: false,
  }));
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
  const bucketAt = (at: number): Bucket => {
    const index = Math.max(0, Math.floor((at - t0 + 1e-6) / bucketMs));
    while (buckets.length <= index) buckets.push(newBucket());
    return buckets[index]!;
  };
  const phaseAt = (offsetMs: number): PhaseStats | undefined => {
    if (phases.length === 0) return undefined;
    // Arrival times are computed in floating point: the first arrival of a step may come out
    // a hair before the step's start, and belongs to it.
    const at = offsetMs + 1e-6;
    return phases.find((p) => at >= p.phase.startMs && at < p.phase.endMs) ?? phases.at(-1);
  };
  const noteError = (kindName: string, sample: string) => {
    bump(errorKinds, kindName);
    if (errorSamples.length < 10 && !errorSamples.some((s) => s.startsWith(`${kindName}:`)))
      errorSamples.push(`${kindName}: ${sample}`);
  };

  const record = (step: Step, outcome: Outcome, endedAt: number, phase: PhaseStats | undefined) => {
    requests += 1;
    lastCompletion = Math.max(lastCompletion, endedAt);
    const stats = perStep.get(step.name)!;
    stats.requests += 1;
    if (outcome.status !== null) bump(statusCodes, String(outcome.status));
    const bucket = bucketAt(endedAt);
    bucket.requests += 1;
    if (phase) phase.requests += 1;
    if (outcome.latencyMs !== null) {
      all.record(outcome.latencyMs);
      stats.hist.record(outcome.latencyMs);
      bucket.hist.record(outcome.latencyMs);
      phase?.hist.record(outcome.latencyMs);
    }
    if (outcome.failure) {
      failedRequests += 1;
      stats.errors += 1;
      bucket.errors += 1;
      if (phase) phase.errors += 1;
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
        // Hold the subscription open for `hold`, counting events; the server may end it
        // earlier. A stream that never delivers its first event (any complete block: the
        // server's `retry:` line, a comment, an event) within the hold is an error.
        const timer = setTimeout(
          () => hold.abort(),
          Math.max(0, req.holdMs - (performance.now() - startedAtMs)),
        );
        let streamFailure: string | null = null;
        let events = 0;
        let tail = ''; // an event's blank line may be split across chunks
        try {
          for await (const chunk of res.body) {
            const text = (tail + String(chunk)).replace(/\r\n/g, '\n');
            const complete = text.lastIndexOf('\n\n');
            if (complete === -1) {
              tail = text.slice(-4096);
              continue;
            }
            events += countEvents(text.slice(0, complete + 2));
            tail = text.slice(complete + 2);
          }
        } catch (error) {
          if (!hold.signal.aborted && !stop.signal.aborted)
            streamFailure = `stream broke (${errorKind(error)})`;
        } finally {
          clearTimeout(timer);
        }
        sse.events += events;
        if (!streamFailure && events === 0 && !stop.signal.aborted)
          streamFailure = 'no event within the hold';
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
      const kindName = errorKind(error);
      // A timeout is a (very) slow response: keep its latency, so the histogram cannot look
      // better than what a client lived through. Refused/reset connections have no latency.
      const latencyMs = kindName === 'timeout' ? performance.now() - startedAtMs : null;
      return { status: null, failure: kindName, latencyMs, interrupted: false };
    }
  };

  const iterate = async (vu: number, iter: number, intendedMs: number): Promise<void> => {
    counts.started += 1;
    const phase = phaseAt(intendedMs - t0);
    const startLag = Math.max(0, performance.now() - intendedMs);
    lag.record(startLag);
    bucketAt(intendedMs).started += 1;
    if (phase) {
      phase.started += 1;
      phase.inFlight += 1;
      phase.lag.record(startLag);
    }
    try {
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
          if (phase) phase.interrupted += 1;
          bump(errorKinds, 'interrupted at graceful stop');
          return;
        }
        record(step, outcome, performance.now(), phase);
        if (outcome.failure) break;
        stepStart = performance.now();
      }
      counts.completed += 1;
      bucketAt(performance.now()).completed += 1;
      if (phase) phase.completed += 1;
    } finally {
      if (phase) phase.inFlight -= 1;
    }
  };

  // Capacity runs stop stepping up once a step broke the SLO and `overshoot` more steps ran
  // (enough to draw the curve past the knee, without hammering a target that already failed).
  const slo = { p99Ms: limits.p99Ms, errorRate: limits.errorRate };
  const capacityPlan = kind === 'capacity' ? { ...CAPACITY_DEFAULTS, ...scenario.capacity } : null;
  let stopAtMs = Number.POSITIVE_INFINITY;
  const scheduleUntil = (): number => {
    if (!capacityPlan || phases.length === 0) return stopAtMs;
    const now = performance.now() - t0;
    if (stopAtMs === Number.POSITIVE_INFINITY) {
      for (const [i, p] of phases.entries()) {
        if (p.settled) continue;
        // Settled when everything it started has answered, or when what is still in flight has
        // already taken longer than the p99 limit (so it counts against the step regardless).
        if (now < p.phase.endMs || (p.inFlight > 0 && now < p.phase.endMs + slo.p99Ms)) break;
        p.settled = true;
        const lateShare = p.offered === 0 ? 0 : p.inFlight / p.offered;
        const verdict = judgePhase(
          provisionalPhase(p),
          { p99Ms: slo.p99Ms, errorRate: slo.errorRate },
          { generatorLagMs: capacityPlan.generatorLagMs },
        );
        if (!verdict.ok || lateShare > 1 - 0.99) {
          const last = phases[Math.min(phases.length - 1, i + capacityPlan.overshoot)]!;
          stopAtMs = last.phase.endMs;
          break;
        }
      }
    }
    return stopAtMs;
  };

  let scheduleEnd = durationMs;
  const inFlight = new Set<Promise<void>>();
  let hardStop: NodeJS.Timeout | null = null;
  const armHardStop = () => {
    hardStop = setTimeout(() => stop.abort(), gracefulStopMs + 20);
  };
  monitor.start(t0);
  try {
    if (load.executor === 'constant-vus') {
      hardStop = setTimeout(() => stop.abort(), durationMs + gracefulStopMs + 20);
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
      const free: number[] = [];
      for (let vu = maxVUs; vu >= 1; vu--) free.push(vu);
      const perVuIter = new Map<number, number>();
      await runSchedule(
        offsets,
        t0,
        (_index, intendedMs) => {
          counts.offered += 1;
          bucketAt(intendedMs).offered += 1;
          const phase = phaseAt(intendedMs - t0);
          if (phase) phase.offered += 1;
          const vu = free.pop();
          if (vu === undefined) {
            counts.dropped += 1;
            bucketAt(intendedMs).dropped += 1;
            if (phase) phase.dropped += 1;
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
        { signal: stop.signal, until: scheduleUntil },
      );
      scheduleEnd = stop.signal.aborted
        ? Math.min(durationMs, performance.now() - t0)
        : Math.min(durationMs, stopAtMs);
      armHardStop();
      await Promise.all(inFlight);
    }
  } finally {
    if (hardStop) clearTimeout(hardStop);
    options.signal?.removeEventListener('abort', onOuterAbort);
    if (stop.signal.aborted) await pool.destroy();
    else await pool.close();
  }
  const series = await monitor.stop();

  // Throughput is over the scheduled window, or longer when responses kept arriving after it.
  const elapsedMs = Math.max(1, scheduleEnd, (lastCompletion || performance.now()) - t0);
  const latency = all.summary();
  const errors = failedRequests + counts.dropped + counts.interrupted;
  const attempts = requests + counts.dropped + counts.interrupted;
  const errorRate = attempts === 0 ? 0 : errors / attempts;
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
  const timeline: TimelinePoint[] = buckets.map((b, i) => ({
    second: (i * bucketMs) / 1000,
    seconds: bucketMs / 1000,
    offered: b.offered,
    started: b.started,
    completed: b.completed,
    dropped: b.dropped,
    requests: b.requests,
    errors: b.errors,
    p50: round(b.hist.percentile(50)),
    p99: round(b.hist.percentile(99)),
  }));
  const phaseResults: PhaseResult[] = phases
    .filter((p) => p.offered > 0)
    .map((p) => {
      const endMs = Math.min(p.phase.endMs, Math.max(p.phase.startMs + 1, scheduleEnd));
      const result = provisionalPhase(p, endMs);
      result.generator = {
        ...result.generator,
        ...generatorOf(series, p.phase.startMs, endMs),
      };
      result.processes = phaseProcesses(series, p.phase.startMs, endMs);
      return result;
    });

  const result: RunResult = {
    scenario: scenario.name,
    kind,
    ...(scenario.of ? { of: scenario.of } : {}),
    route: scenario.route,
    target,
    engine: 'node',
    baseUrl: options.baseUrl,
    mode,
    round: options.round ?? 1,
    executor: load.executor,
    startedAt,
    elapsedMs: Math.round(elapsedMs),
    iterations: counts,
    requests,
    errors,
    errorRate,
    throughput: Math.round((requests / (elapsedMs / 1000)) * 100) / 100,
    offeredRate: Math.round((counts.offered / (Math.max(1, scheduleEnd) / 1000)) * 100) / 100,
    statusCodes,
    errorKinds,
    errorSamples,
    latency,
    curve: all.curve(),
    histogram: all.encode(),
    steps,
    timeline,
    generatorLag: { p99: lagSummary.p99, max: lagSummary.max },
    servedBy,
    ...(sse.subscriptions > 0 ? { sse } : {}),
    thresholds: { p95, p99, errorRate: errorVerdict, ok: p95.ok && p99.ok && errorVerdict.ok },
    upstreamCalls: null,
    cost: runCost(series, target, 0, elapsedMs, requests, lagSummary.p99),
  };
  if (phaseResults.length > 0) result.phases = phaseResults;
  if (kind === 'capacity' && capacityPlan) {
    result.capacity = capacityVerdict(phaseResults, slo, { generatorLagMs: capacityPlan.generatorLagMs });
  }
  if (kind === 'soak' && scenario.soak) result.soak = soakVerdict(phaseResults, scenario.soak);
  if (kind === 'spike') result.spike = spikeVerdict(phaseResults, timeline, slo, SPIKE_HOLD_SECONDS);
  return result;
}

/** A phase's numbers so far (during the run: the early-stop check; after it: the result). */
function provisionalPhase(p: PhaseStats, endMs = p.phase.endMs): PhaseResult {
  const seconds = Math.max(0.001, (endMs - p.phase.startMs) / 1000);
  const attempts = p.requests + p.dropped + p.interrupted;
  const errors = p.errors + p.dropped + p.interrupted;
  const summary = p.hist.summary();
  const lagSummary = p.lag.summary();
  return {
    name: p.phase.name,
    rate: p.phase.rate,
    startMs: p.phase.startMs,
    endMs,
    offered: p.offered,
    completed: p.completed,
    dropped: p.dropped,
    requests: p.requests,
    errors,
    errorRate: attempts === 0 ? 0 : errors / attempts,
    achievedRate: Math.round((p.completed / seconds) * 10) / 10,
    latency: { p50: summary.p50, p95: summary.p95, p99: summary.p99, max: summary.max, count: summary.count },
    generator: {
      cpuCores: null,
      elu: null,
      lagP90: lagSummary.count > 0 ? round(p.lag.percentile(90)) : null,
    },
    processes: {},
  };
}

function generatorOf(
  series: ResourceSeries,
  from: number,
  to: number,
): { cpuCores: number | null; elu: number | null } {
  const gen = generatorBetween(series.samples, from, to);
  return { cpuCores: gen?.cpuCores ?? null, elu: gen?.elu ?? null };
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
