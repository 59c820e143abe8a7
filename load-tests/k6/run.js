// k6 entry point: runs the scenario catalogue (../scenarios.json) against ONE target.
//
//   k6 run k6/run.js                                   # fixed-rate scenarios, gateway on :8080
//   k6 run -e TARGET=legacy -e BASE_URL=http://127.0.0.1:3001 k6/run.js
//   k6 run -e TARGET=modern -e KIND=capacity k6/run.js  # capacity (stepped ramping-arrival-rate)
//   k6 run -e TARGET=modern -e SCENARIO=cached-read,aggregate-fanout -e SMOKE=1 k6/run.js
//
// Env: TARGET (legacy|modern|gateway, default gateway), BASE_URL (default: the target's
// embedded port), SCENARIO (comma list of any kind), KIND (comma list: fixed, capacity, soak,
// spike; default fixed, every kind with SMOKE=1), SMOKE=1 (a few seconds per scenario),
// METRICS (service=url/metrics,... sampled for CPU and RSS; default the target's own /metrics
// for legacy and modern; "off" for none), CATALOGUE (path, default ../scenarios.json),
// SUMMARY_JSON (default k6-results-<target>.json: results.json, schema pilot-load-results/2,
// which `pnpm report` renders), VAR_<name> (override a catalogue var).
// Plain ES module, k6 APIs only: works unmodified on k6 0.4x and 1.x.
import { sleep } from 'k6';
import crypto from 'k6/crypto';
import { SharedArray } from 'k6/data';
import exec from 'k6/execution';
import http from 'k6/http';
import { Counter, Rate, Trend } from 'k6/metrics';
import {
  applyCaptures,
  bucketOf,
  buildK6Options,
  countEvents,
  judgeResponse,
  METRIC_ERRORS,
  METRIC_ITERATIONS,
  METRIC_LATENCY,
  renderStep,
  resolveVars,
  TARGETS,
} from './lib/core.js';
import { resolveCatalogue } from './lib/kinds.js';
import {
  k6Results,
  METRIC_PROC_CPU,
  METRIC_PROC_RSS,
  METRIC_PROC_TIME,
  METRIC_UNVERIFIED,
} from './lib/results.js';
import { textSummary } from './lib/summary.js';

/** @type {Record<string, string>} */
const DEFAULT_URLS = {
  legacy: 'http://127.0.0.1:3001',
  modern: 'http://127.0.0.1:3002',
  gateway: 'http://127.0.0.1:8080',
};

const TARGET = __ENV.TARGET || 'gateway';
if (TARGETS.indexOf(TARGET) === -1)
  throw new Error('TARGET must be one of ' + TARGETS.join(', ') + ', got ' + TARGET);
const BASE_URL = (__ENV.BASE_URL || DEFAULT_URLS[TARGET] || '').replace(/\/+$/, '');
/** @type {import('./lib/core.js').Mode} */
const MODE = __ENV.SMOKE === '1' || __ENV.SMOKE === 'true' ? 'smoke' : 'full';
const ONLY = __ENV.SCENARIO ? __ENV.SCENARIO.split(',').map((name) => name.trim()) : [];
const KINDS = __ENV.KIND
  ? __ENV.KIND.split(',').map((kind) => kind.trim())
  : MODE === 'smoke'
    ? ['fixed', 'capacity', 'soak', 'spike']
    : ['fixed'];
const CATALOGUE_FILE = __ENV.CATALOGUE || '../scenarios.json';

const loaded = /** @type {{ text: string, catalogue: import('./lib/core.js').Catalogue }} */ (
  new SharedArray('pilot-catalogue', () => {
    const text = open(CATALOGUE_FILE);
    return [{ text: text, catalogue: resolveCatalogue(JSON.parse(text)) }];
  })[0]
);
const catalogue = loaded.catalogue;

for (let i = 0; i < ONLY.length; i++) {
  const wanted = ONLY[i];
  if (!catalogue.scenarios.some((scenario) => scenario.name === wanted)) {
    throw new Error(
      'unknown SCENARIO "' +
        wanted +
        '"; known: ' +
        catalogue.scenarios.map((scenario) => scenario.name).join(', '),
    );
  }
}
for (let i = 0; i < KINDS.length; i++) {
  const kind = /** @type {string} */ (KINDS[i]);
  if (['fixed', 'capacity', 'soak', 'spike'].indexOf(kind) === -1)
    throw new Error('KIND must list fixed, capacity, soak or spike, got ' + kind);
}

const built = buildK6Options(catalogue, { target: TARGET, mode: MODE, only: ONLY, kinds: KINDS });
if (built.order.length === 0)
  throw new Error(
    'no scenario applies to target ' +
      TARGET +
      ' (SCENARIO=' +
      ONLY.join(',') +
      ', KIND=' +
      KINDS.join(',') +
      ')',
  );

/**
 * Services whose /metrics the probe samples for CPU and RSS (name → URL).
 * @returns {Record<string, string>}
 */
function metricsTargets() {
  /** @type {Record<string, string>} */
  const out = {};
  const spec = __ENV.METRICS;
  if (spec === 'off') return out;
  if (spec) {
    const parts = spec.split(',');
    for (let i = 0; i < parts.length; i++) {
      const part = /** @type {string} */ (parts[i]).trim();
      const eq = part.indexOf('=');
      if (eq <= 0) throw new Error('METRICS entries are service=url, got ' + part);
      out[part.slice(0, eq)] = part.slice(eq + 1);
    }
    return out;
  }
  // The gateway's /metrics is on its admin port, which BASE_URL does not tell.
  if (TARGET !== 'gateway') out[TARGET] = BASE_URL + '/metrics';
  return out;
}
const SERVICES = metricsTargets();

/** The whole run's length (ms): the probe runs alongside every scenario. */
let runMs = 0;
for (let i = 0; i < built.layout.length; i++) {
  const l = /** @type {import('./lib/core.js').ScenarioLayout} */ (built.layout[i]);
  runMs = Math.max(runMs, l.startMs + l.durationMs);
}

/** @type {Record<string, Record<string, unknown>>} */
const scenarios = built.scenarios;
/** @type {Record<string, string[]>} */
const thresholds = built.thresholds;
if (Object.keys(SERVICES).length > 0) {
  scenarios['pilot-probe'] = {
    executor: 'constant-vus',
    vus: 1,
    duration: Math.ceil(runMs / 1000) + 's',
    exec: 'probe',
    startTime: '0s',
    gracefulStop: '2s',
  };
  const services = Object.keys(SERVICES);
  for (let i = 0; i < built.layout.length; i++) {
    const l = /** @type {import('./lib/core.js').ScenarioLayout} */ (built.layout[i]);
    for (let j = 0; j < services.length; j++) {
      const sel = '{of:' + l.name + ',service:' + services[j] + '}';
      thresholds[METRIC_PROC_CPU + sel] = ['max>=0'];
      thresholds[METRIC_PROC_RSS + sel] = ['max>=0'];
      thresholds[METRIC_PROC_TIME + sel] = ['max>=0'];
      if (l.kind === 'soak') {
        for (let p = 0; p < l.phases.length; p++)
          thresholds[METRIC_PROC_RSS + '{of:' + l.name + ',service:' + services[j] + ',phase:' + p + '}'] = [
            'max>=0',
          ];
      }
    }
  }
}
for (let i = 0; i < built.layout.length; i++) {
  const l = /** @type {import('./lib/core.js').ScenarioLayout} */ (built.layout[i]);
  thresholds['dropped_iterations{scenario:' + l.name + '}'] = ['count>=0'];
  if (l.streaming) {
    thresholds[METRIC_UNVERIFIED + '{scenario:' + l.name + '}'] = ['count>=0'];
    for (let w = 0; w < l.buckets; w++)
      thresholds[METRIC_UNVERIFIED + '{scenario:' + l.name + ',w:' + w + '}'] = ['count>=0'];
  }
}

export const options = {
  scenarios: scenarios,
  thresholds: thresholds,
  summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)', 'p(99.9)', 'count'],
  discardResponseBodies: false,
};

const latency = new Trend(METRIC_LATENCY, true);
const errors = new Rate(METRIC_ERRORS);
const iterations = new Counter(METRIC_ITERATIONS);
const unverified = new Counter(METRIC_UNVERIFIED);
const procCpu = new Trend(METRIC_PROC_CPU);
const procRss = new Trend(METRIC_PROC_RSS);
const procTime = new Trend(METRIC_PROC_TIME);
const vars = resolveVars(catalogue.vars, __ENV);

/** @type {Record<string, import('./lib/core.js').Scenario>} */
const byName = {};
/** @type {Record<string, import('./lib/core.js').ScenarioLayout>} */
const layoutByName = {};
/** @type {Record<string, ReturnType<typeof http.expectedStatuses>>} */
const expected = {};
for (let i = 0; i < catalogue.scenarios.length; i++) {
  const scenario = catalogue.scenarios[i];
  if (!scenario) continue;
  byName[scenario.name] = scenario;
  for (let j = 0; j < scenario.steps.length; j++) {
    const step = scenario.steps[j];
    if (step) expected[scenario.name + '/' + step.name] = http.expectedStatuses(...step.expect.status);
  }
}
for (let i = 0; i < built.layout.length; i++) {
  const l = /** @type {import('./lib/core.js').ScenarioLayout} */ (built.layout[i]);
  layoutByName[l.name] = l;
}

export default function () {
  const name = exec.scenario.name;
  const scenario = byName[name];
  const layout = layoutByName[name];
  if (!scenario || !layout) throw new Error('no catalogue scenario named ' + name);
  const started = Date.now();
  const scenarioStart = exec.scenario.startTime || started;
  // The phase is the one the iteration was offered in; timeline buckets are where samples land.
  const phase = bucketOf(layout, started - scenarioStart).phase;
  /** @param {string} step */
  const tagsNow = (step) => {
    /** @type {Record<string, string>} */
    const tags = {
      scenario: name,
      route: scenario.route,
      target: TARGET,
      step: step,
      w: String(bucketOf(layout, Date.now() - scenarioStart).w),
    };
    if (phase >= 0) tags.phase = String(phase);
    return tags;
  };
  /** @type {import('./lib/core.js').TemplateContext} */
  const ctx = { vars: vars, captures: {}, vu: __VU, iter: __ITER };
  let failed = false;
  for (let i = 0; i < scenario.steps.length; i++) {
    const step = scenario.steps[i];
    if (!step) continue;
    const request = renderStep(step, ctx, catalogue.defaults.timeout, MODE);
    /** @type {import('k6/http').RefinedParams<'text' | 'none'>} */
    const params = {
      headers: request.headers,
      tags: {
        scenario: name,
        route: scenario.route,
        target: TARGET,
        step: step.name,
        name: step.method + ' ' + step.path,
      },
      timeout: request.timeoutMs,
    };
    let failure = null;
    if (step.sse) {
      // k6 core has no streaming API: the subscription is a GET with timeout = hold. If it is
      // still open at the hold, k6 ends it as a timeout (error 1050) without its status or
      // first event: that proves nothing, so it is counted as unverified, not as a success.
      // A stream that answered before the hold is judged like any response: status, content
      // type, and at least one complete event (block) in what it sent.
      params.timeout = request.holdMs;
      params.responseType = 'text';
      const res = http.request(request.method, BASE_URL + request.path, request.body, params);
      if (res.error_code === 1050) {
        unverified.add(1, tagsNow(step.name));
        continue;
      }
      if (res.status === 0) failure = 'network ' + res.error_code;
      else failure = judgeResponse(step, res.status, res.headers['Content-Type']);
      if (!failure && countEvents(typeof res.body === 'string' ? res.body : '') === 0)
        failure = 'stream ended without an event';
      errors.add(failure ? 1 : 0, tagsNow(step.name));
      if (failure) {
        failed = true;
        break;
      }
      continue;
    }
    params.responseCallback = expected[name + '/' + step.name];
    const res = http.request(request.method, BASE_URL + request.path, request.body, params);
    if (res.status === 0) failure = 'network ' + res.error_code;
    else failure = judgeResponse(step, res.status, res.headers['Content-Type']);
    if (!failure) failure = applyCaptures(step, typeof res.body === 'string' ? res.body : null, ctx);
    const tags = tagsNow(step.name);
    latency.add(res.timings.duration, tags);
    errors.add(failure ? 1 : 0, tags);
    if (failure) {
      failed = true;
      break;
    }
  }
  if (!failed) iterations.add(1, tagsNow(''));
}

/**
 * Sum of a Prometheus metric's samples (all label sets), or null when absent.
 * @param {string} text
 * @param {string} metric
 * @returns {number | null}
 */
export function promValue(text, metric) {
  const lines = text.split('\n');
  let found = false;
  let sum = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = /** @type {string} */ (lines[i]).trim();
    if (line === '' || line.charAt(0) === '#') continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== metric) continue;
    const v = Number(m[3]);
    if (!Number.isFinite(v)) continue;
    found = true;
    sum += v;
  }
  return found ? sum : null;
}

/**
 * The probe (its own 1-VU scenario): once a second, each service's process_cpu_seconds_total
 * and process_resident_memory_bytes, tagged with the catalogue scenario running at the time.
 */
export function probe() {
  const elapsed = Date.now() - (exec.scenario.startTime || Date.now());
  /** @type {import('./lib/core.js').ScenarioLayout | undefined} */
  let active;
  for (let i = 0; i < built.layout.length; i++) {
    const l = /** @type {import('./lib/core.js').ScenarioLayout} */ (built.layout[i]);
    if (elapsed >= l.startMs && elapsed < l.startMs + l.durationMs) active = l;
  }
  if (active) {
    const names = Object.keys(SERVICES);
    for (let i = 0; i < names.length; i++) {
      const service = /** @type {string} */ (names[i]);
      const res = http.get(/** @type {string} */ (SERVICES[service]), {
        tags: { probe: 'metrics', service: service },
        timeout: 2000,
        responseType: 'text',
      });
      if (res.status !== 200 || typeof res.body !== 'string') continue;
      /** @type {Record<string, string>} */
      const tags = { of: active.name, service: service };
      const at = bucketOf(active, elapsed - active.startMs);
      const cpu = promValue(res.body, 'process_cpu_seconds_total');
      const rss = promValue(res.body, 'process_resident_memory_bytes');
      if (cpu !== null) {
        procCpu.add(cpu, tags);
        procTime.add(elapsed / 1000, tags);
      }
      if (rss !== null) {
        procRss.add(rss, tags);
        if (at.phase >= 0) procRss.add(rss, { of: active.name, service: service, phase: String(at.phase) });
      }
    }
  }
  sleep(1);
}

/** @param {import('./lib/summary.js').SummaryData} data */
export function handleSummary(data) {
  const file = __ENV.SUMMARY_JSON || 'k6-results-' + TARGET + '.json';
  const finished = new Date();
  // biome-ignore lint/complexity/useOptionalChain: k6 0.4x cannot parse optional chaining
  const durationMs = data.state && data.state.testRunDurationMs ? data.state.testRunDurationMs : 0;
  const results = k6Results(/** @type {import('./lib/results.js').SummaryData} */ (data), {
    target: TARGET,
    baseUrl: BASE_URL,
    mode: MODE,
    catalogue: catalogue,
    layout: built.layout,
    cataloguePath: CATALOGUE_FILE,
    catalogueSha256: String(crypto.sha256(loaded.text, 'hex')),
    startedAt: new Date(finished.getTime() - durationMs).toISOString(),
    finishedAt: finished.toISOString(),
    services: SERVICES,
  });
  /** @type {Record<string, string>} */
  const out = { stdout: textSummary(data, { target: TARGET, order: built.order }) };
  // results.json for the report, with k6's own summary kept beside it for re-analysis.
  /** @type {Record<string, unknown>} */
  const withRaw = results;
  withRaw.k6Summary = data;
  out[file] = JSON.stringify(withRaw, null, 2);
  return out;
}
