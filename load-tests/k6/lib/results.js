// A k6 end-of-test summary (the `data` handleSummary receives) turned into results.json, schema
// pilot-load-results/2: the same shape `pnpm compare` writes, so one report renders both.
// k6/run.js calls it from handleSummary; `pnpm report` calls it for a raw k6 summary file.
//
// k6's summary has no time series, so k6/run.js tags every sample with its timeline bucket
// (`w`) and kind phase (`phase`), and keeps those sub-metrics in the summary with always-true
// thresholds (core.js buildK6Options). What k6 cannot observe is said, not invented: no
// per-request generator lag, no status-code breakdown, no HdrHistogram, and a held SSE stream
// (k6 core has no streaming API: the request ends by timeout, its status and first event
// unseen) is marked not verifiable instead of passing.
// Plain ES module, no k6 or Node imports, syntax k6 0.4x accepts.

import { capacityVerdict, SPIKE_HOLD_SECONDS, soakVerdict, spikeVerdict } from './analysis.js';
import { METRIC_ERRORS, METRIC_ITERATIONS, METRIC_LATENCY, thresholdsFor } from './core.js';
import { CAPACITY_DEFAULTS, iterationsBetween } from './kinds.js';
import { computeRatios, summarize } from './summarize.js';

export const RESULTS_SCHEMA = 'pilot-load-results/2';

/** Probe metrics (k6/run.js samples the services' /metrics): cumulative CPU s, RSS bytes, sample time s. */
export const METRIC_PROC_CPU = 'pilot_proc_cpu';
export const METRIC_PROC_RSS = 'pilot_proc_rss';
export const METRIC_PROC_TIME = 'pilot_proc_t';
/** Held SSE subscriptions that ended by k6's request timeout: neither passed nor failed. */
export const METRIC_UNVERIFIED = 'pilot_unverified';

/** What the report says of a held stream under k6. */
export const SSE_UNVERIFIABLE =
  'not verifiable on k6: a held stream ends by the request timeout, so its status and first event are never seen (k6 core has no streaming API); only answers that came back early (refused, 4xx/5xx, wrong content type) are counted, as errors. The Node runner (pnpm compare) verifies the status and the first event.';

/**
 * @typedef {import('./core.js').Catalogue} Catalogue
 * @typedef {import('./core.js').Scenario} Scenario
 * @typedef {import('./core.js').ScenarioLayout} ScenarioLayout
 * @typedef {import('./analysis.js').PhaseResult} PhaseResult
 * @typedef {{ type?: string, contains?: string, values: Record<string, number>, thresholds?: Record<string, { ok: boolean }> }} SummaryMetric
 * @typedef {{ metrics: Record<string, SummaryMetric>, state?: { testRunDurationMs?: number } }} SummaryData
 * @typedef {{
 *   target: string, baseUrl: string, mode: string, catalogue: Catalogue, layout: ScenarioLayout[],
 *   cataloguePath?: string, catalogueSha256?: string, startedAt?: string, finishedAt?: string,
 *   k6Version?: string, services?: Record<string, string>
 * }} K6RunInfo
 */

/**
 * @param {SummaryData} data
 * @param {string} name
 * @returns {Record<string, number> | null}
 */
function values(data, name) {
  const metric = data.metrics[name];
  return metric ? metric.values : null;
}

/**
 * @param {Record<string, number> | null} v
 * @param {string} key
 * @returns {number}
 */
function num(v, key) {
  if (!v) return 0;
  const x = v[key];
  return typeof x === 'number' && Number.isFinite(x) ? x : 0;
}

/**
 * @param {number} x
 * @returns {number}
 */
function r3(x) {
  return Math.round(x * 1000) / 1000;
}

/**
 * @param {Record<string, number> | null} v
 */
function latencySummary(v) {
  return {
    count: Math.round(num(v, 'count')),
    min: r3(num(v, 'min')),
    mean: r3(num(v, 'avg')),
    p50: r3(num(v, 'med')),
    p90: r3(num(v, 'p(90)')),
    p95: r3(num(v, 'p(95)')),
    p99: r3(num(v, 'p(99)')),
    p999: r3(v && v['p(99.9)'] !== undefined ? num(v, 'p(99.9)') : num(v, 'p(99)')),
    max: r3(num(v, 'max')),
  };
}

/**
 * The numbers of one sub-metric selector (", w:3", ", phase:1", "") of a scenario.
 * @param {SummaryData} data
 * @param {string} scenario
 * @param {string} extra
 */
function slice(data, scenario, extra) {
  const suffix = '{scenario:' + scenario + extra + '}';
  const latency = values(data, METRIC_LATENCY + suffix);
  const errors = values(data, METRIC_ERRORS + suffix);
  const iterations = values(data, METRIC_ITERATIONS + suffix);
  const unverified = values(data, METRIC_UNVERIFIED + suffix);
  const errorCount = Math.round(num(errors, 'passes'));
  const judged = errorCount + Math.round(num(errors, 'fails'));
  return {
    latency: latencySummary(latency),
    errors: errorCount,
    judged: judged,
    completed: Math.round(num(iterations, 'count')),
    unverified: Math.round(num(unverified, 'count')),
  };
}

/**
 * Cost from the probe's samples of the services' process_* metrics during one scenario:
 * CPU growth scaled from the sampled span to the scenario's duration, peak RSS.
 * @param {SummaryData} data
 * @param {ScenarioLayout} layout
 * @param {string} target
 * @param {Record<string, string>} services
 * @param {number} requests
 */
function probeCost(data, layout, target, services, requests) {
  const names = Object.keys(services);
  if (names.length === 0) return null;
  /** @type {Array<Record<string, unknown>>} */
  const processes = [];
  /** @type {Record<string, string[]>} */
  const paths = {
    legacy: ['legacy', 'cms'],
    modern: ['modern', 'cms'],
    gateway: ['gateway', 'legacy', 'modern', 'cms'],
  };
  const path = [];
  let pathCpu = 0;
  for (let i = 0; i < names.length; i++) {
    const name = /** @type {string} */ (names[i]);
    const sel = '{of:' + layout.name + ',service:' + name + '}';
    const cpu = values(data, METRIC_PROC_CPU + sel);
    const rss = values(data, METRIC_PROC_RSS + sel);
    const t = values(data, METRIC_PROC_TIME + sel);
    const span = num(t, 'max') - num(t, 'min');
    const samples = num(cpu, 'count');
    let cpuSeconds = null;
    if (cpu && samples >= 2 && span > 0)
      cpuSeconds = r3(((num(cpu, 'max') - num(cpu, 'min')) * (layout.durationMs / 1000)) / span);
    const onPath = (paths[target] || []).indexOf(name) !== -1;
    if (onPath && cpuSeconds !== null) {
      path.push(name);
      pathCpu += cpuSeconds;
    }
    processes.push({
      name: name,
      source: 'metrics',
      cpuSeconds: cpuSeconds,
      cpuPer1k:
        cpuSeconds === null || requests === 0 ? null : Math.round((cpuSeconds / requests) * 1e7) / 1e4,
      peakRssBytes: rss && num(rss, 'max') > 0 ? num(rss, 'max') : null,
      note: 'process_* metrics from ' + services[name] + ', sampled once a second by k6',
    });
  }
  return {
    processes: processes,
    own: target,
    pathProcesses: path,
    pathCpuPer1k: path.length === 0 || requests === 0 ? null : Math.round((pathCpu / requests) * 1e7) / 1e4,
    generator: null,
  };
}

/**
 * Average RSS per soak window and service from the probe (phase-tagged samples).
 * @param {SummaryData} data
 * @param {ScenarioLayout} layout
 * @param {number} phase
 * @param {Record<string, string>} services
 */
function phaseProcesses(data, layout, phase, services) {
  /** @type {Record<string, { cpuSeconds: number | null, rssAvgBytes: number | null, rssPeakBytes: number | null }>} */
  const out = {};
  const names = Object.keys(services);
  for (let i = 0; i < names.length; i++) {
    const name = /** @type {string} */ (names[i]);
    const rss = values(
      data,
      METRIC_PROC_RSS + '{of:' + layout.name + ',service:' + name + ',phase:' + phase + '}',
    );
    if (!rss || num(rss, 'count') === 0) continue;
    out[name] = { cpuSeconds: null, rssAvgBytes: Math.round(num(rss, 'avg')), rssPeakBytes: num(rss, 'max') };
  }
  return out;
}

/**
 * One RunResult (src/model.ts) per scenario of the k6 run.
 * @param {SummaryData} data
 * @param {ScenarioLayout} layout
 * @param {K6RunInfo} info
 */
export function k6Run(data, layout, info) {
  /** @type {Scenario | undefined} */
  let scenario;
  for (let i = 0; i < info.catalogue.scenarios.length; i++) {
    const s = /** @type {Scenario} */ (info.catalogue.scenarios[i]);
    if (s.name === layout.name) scenario = s;
  }
  if (!scenario) throw new Error('scenario ' + layout.name + ' is not in the catalogue');
  const limits = thresholdsFor(info.catalogue, scenario);
  const all = slice(data, layout.name, '');
  const dropped = Math.round(num(values(data, 'dropped_iterations{scenario:' + layout.name + '}'), 'count'));
  const offered = iterationsBetween(layout.load, 0, layout.durationMs);
  const requests = layout.streaming ? all.judged + all.unverified : all.latency.count;
  const errors = all.errors + dropped;
  const attempts = (layout.streaming ? all.judged : all.latency.count) + dropped;
  const errorRate = attempts === 0 ? 0 : errors / attempts;
  const seconds = layout.durationMs / 1000;

  /** @type {Array<Record<string, number | null>>} */
  const timeline = [];
  for (let w = 0; w < layout.buckets; w++) {
    const b = slice(data, layout.name, ',w:' + w);
    const from = w * layout.bucketMs;
    const to = Math.min(layout.durationMs, from + layout.bucketMs);
    timeline.push({
      second: from / 1000,
      seconds: layout.bucketMs / 1000,
      offered: iterationsBetween(layout.load, from, to),
      started: null,
      completed: b.completed,
      dropped: null,
      requests: layout.streaming ? b.judged + b.unverified : b.latency.count,
      errors: b.errors,
      p50: b.latency.p50,
      p99: b.latency.p99,
    });
  }

  /** @type {PhaseResult[]} */
  const phases = [];
  for (let p = 0; p < layout.phases.length; p++) {
    const phase = /** @type {import('./kinds.js').Phase} */ (layout.phases[p]);
    const b = slice(data, layout.name, ',phase:' + p);
    const phaseOffered = iterationsBetween(layout.load, phase.startMs, phase.endMs);
    // k6 counts dropped iterations per scenario only: the phase's are what it offered and
    // neither completed nor still answered (an estimate, said so in the README).
    const phaseDropped = Math.max(0, phaseOffered - b.completed - b.errors);
    const phaseAttempts = b.latency.count + phaseDropped;
    phases.push({
      name: phase.name,
      rate: phase.rate,
      startMs: phase.startMs,
      endMs: phase.endMs,
      offered: phaseOffered,
      completed: b.completed,
      dropped: phaseDropped,
      requests: b.latency.count,
      errors: b.errors + phaseDropped,
      errorRate: phaseAttempts === 0 ? 0 : (b.errors + phaseDropped) / phaseAttempts,
      achievedRate:
        Math.round((b.completed / Math.max(0.001, (phase.endMs - phase.startMs) / 1000)) * 10) / 10,
      latency: {
        p50: b.latency.p50,
        p95: b.latency.p95,
        p99: b.latency.p99,
        max: b.latency.max,
        count: b.latency.count,
      },
      generator: { cpuCores: null, elu: null, lagP90: null },
      processes: phaseProcesses(data, layout, p, info.services || {}),
    });
  }

  /** @type {Record<string, { requests: number, errors: number, latency: ReturnType<typeof latencySummary> }>} */
  const steps = {};
  for (let i = 0; i < scenario.steps.length; i++) {
    const step = /** @type {import('./core.js').Step} */ (scenario.steps[i]);
    const v =
      scenario.steps.length > 1
        ? values(data, METRIC_LATENCY + '{scenario:' + layout.name + ',step:' + step.name + '}')
        : null;
    const summary = v ? latencySummary(v) : all.latency;
    steps[step.name] = {
      requests: summary.count,
      errors: scenario.steps.length > 1 ? 0 : all.errors,
      latency: summary,
    };
  }

  const lat = all.latency;
  /** @type {Array<[number, number]>} */
  const curve =
    lat.count > 0
      ? [
          [0, lat.min],
          [50, lat.p50],
          [90, lat.p90],
          [95, lat.p95],
          [99, lat.p99],
          [99.9, lat.p999],
          [100, lat.max],
        ]
      : [];
  const p95 = { limit: limits.p95Ms, actual: lat.p95, ok: lat.count > 0 && lat.p95 < limits.p95Ms };
  const p99 = { limit: limits.p99Ms, actual: lat.p99, ok: lat.count > 0 && lat.p99 < limits.p99Ms };
  const errorVerdict = { limit: limits.errorRate, actual: errorRate, ok: errorRate <= limits.errorRate };
  /** @type {Record<string, unknown>} */
  const run = {
    scenario: layout.name,
    kind: layout.kind,
    route: scenario.route,
    target: info.target,
    engine: 'k6',
    baseUrl: info.baseUrl,
    mode: info.mode,
    round: 1,
    executor: layout.load.executor,
    startedAt: info.startedAt || '',
    elapsedMs: layout.durationMs,
    iterations: {
      offered: offered,
      started: Math.max(0, offered - dropped),
      completed: all.completed,
      dropped: dropped,
      interrupted: 0,
    },
    requests: requests,
    errors: errors,
    errorRate: errorRate,
    throughput: Math.round((requests / seconds) * 100) / 100,
    offeredRate: Math.round((offered / seconds) * 100) / 100,
    statusCodes: {},
    errorKinds: dropped > 0 ? { 'dropped (all maxVUs busy)': dropped } : {},
    errorSamples: [],
    latency: lat,
    curve: curve,
    histogram: '',
    steps: steps,
    timeline: timeline,
    generatorLag: { p99: 0, max: 0 },
    servedBy: {},
    thresholds: { p95: p95, p99: p99, errorRate: errorVerdict, ok: p95.ok && p99.ok && errorVerdict.ok },
    upstreamCalls: null,
    cost: probeCost(data, layout, info.target, info.services || {}, requests),
  };
  if (scenario.of) run.of = scenario.of;
  if (phases.length > 0) run.phases = phases;
  const slo = { p99Ms: limits.p99Ms, errorRate: limits.errorRate };
  if (layout.kind === 'capacity') {
    const plan = scenario.capacity || CAPACITY_DEFAULTS;
    run.capacity = capacityVerdict(phases, slo, {
      generatorLagMs: plan.generatorLagMs || CAPACITY_DEFAULTS.generatorLagMs,
    });
  }
  if (layout.kind === 'soak' && scenario.soak) run.soak = soakVerdict(phases, scenario.soak);
  if (layout.kind === 'spike') {
    /** @type {import('./analysis.js').TimelinePoint[]} */
    const points = [];
    for (let i = 0; i < timeline.length; i++) {
      const t = /** @type {Record<string, number>} */ (timeline[i]);
      points.push({
        second: t.second || 0,
        offered: t.offered || 0,
        completed: t.completed || 0,
        requests: t.requests || 0,
        errors: t.errors || 0,
        p50: t.p50 || 0,
        p99: t.p99 || 0,
      });
    }
    run.spike = spikeVerdict(phases, points, slo, SPIKE_HOLD_SECONDS);
  }
  if (layout.streaming) {
    run.unverifiable =
      SSE_UNVERIFIABLE +
      ' Held to the timeout here: ' +
      all.unverified +
      '; early answers counted: ' +
      all.judged +
      '.';
    run.thresholds = { p95: p95, p99: p99, errorRate: errorVerdict, ok: false };
  }
  return run;
}

/**
 * The results.json of a k6 run (one target).
 * @param {SummaryData} data
 * @param {K6RunInfo} info
 */
export function k6Results(data, info) {
  const runs = [];
  for (let i = 0; i < info.layout.length; i++)
    runs.push(k6Run(data, /** @type {ScenarioLayout} */ (info.layout[i]), info));
  /** @type {string[]} */
  const kinds = [];
  for (let i = 0; i < runs.length; i++) {
    const run = runs[i];
    const k = run ? String(run.kind) : '';
    if (kinds.indexOf(k) === -1) kinds.push(k);
  }
  /** @type {Record<string, string>} */
  const targets = {};
  targets[info.target] = info.baseUrl;
  const summaries = summarize(/** @type {never} */ (runs));
  const notes = [
    "k6 run: latency is k6's http_req_duration of each step (from the request's start; k6 starts arrival-rate iterations on time or drops them, so there is no start lag to add).",
  ];
  if (!info.services || Object.keys(info.services).length === 0)
    notes.push('No service /metrics were sampled (METRICS=off or none given): no CPU or RSS figures.');
  return {
    schema: RESULTS_SCHEMA,
    tool: 'k6 (load-tests/k6/run.js)',
    engine: 'k6',
    mode: info.mode === 'smoke' ? 'smoke' : 'full',
    kinds: kinds,
    startedAt: info.startedAt || '',
    finishedAt: info.finishedAt || '',
    catalogue: { path: info.cataloguePath || 'scenarios.json', sha256: info.catalogueSha256 || '' },
    machine: { node: 'k6' + (info.k6Version ? ' ' + info.k6Version : ''), platform: '', cpus: 0 },
    targets: targets,
    stackSource: 'k6 against ' + info.baseUrl,
    upstreamMetric: '-',
    rounds: 1,
    runs: runs,
    summaries: summaries,
    ratios: computeRatios(summaries, /** @type {never} */ (runs)),
    notes: notes,
  };
}
