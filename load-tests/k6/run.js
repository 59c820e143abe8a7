// k6 entry point: runs the scenario catalogue (../scenarios.json) against ONE target.
//
//   k6 run k6/run.js                                   # every scenario, gateway on :8080
//   k6 run -e TARGET=legacy -e BASE_URL=http://127.0.0.1:3001 k6/run.js
//   k6 run -e TARGET=modern -e SCENARIO=cached-read,aggregate-fanout -e SMOKE=1 k6/run.js
//
// Env: TARGET (legacy|modern|gateway, default gateway), BASE_URL (default: the target's
// embedded port), SCENARIO (comma list, default all that apply to the target), SMOKE=1
// (a few seconds per scenario), CATALOGUE (path, default ../scenarios.json),
// SUMMARY_JSON (default k6-summary-<target>.json), VAR_<name> (override a catalogue var).
// Plain ES module, k6 APIs only: works unmodified on k6 0.4x and 1.x.
import exec from 'k6/execution';
import { SharedArray } from 'k6/data';
import http from 'k6/http';
import { Rate, Trend } from 'k6/metrics';
import {
  buildK6Options,
  judgeResponse,
  applyCaptures,
  METRIC_ERRORS,
  METRIC_LATENCY,
  renderStep,
  resolveVars,
  TARGETS,
} from './lib/core.js';
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

/** @type {import('./lib/core.js').Catalogue} */
const catalogue = new SharedArray('pilot-catalogue', () => [
  JSON.parse(open(__ENV.CATALOGUE || '../scenarios.json')),
])[0];

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

const built = buildK6Options(catalogue, { target: TARGET, mode: MODE, only: ONLY });
if (built.order.length === 0)
  throw new Error('no scenario applies to target ' + TARGET + ' (SCENARIO=' + ONLY.join(',') + ')');

export const options = {
  scenarios: built.scenarios,
  thresholds: built.thresholds,
  summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)', 'count'],
  discardResponseBodies: false,
};

const latency = new Trend(METRIC_LATENCY, true);
const errors = new Rate(METRIC_ERRORS);
const vars = resolveVars(catalogue.vars, __ENV);

/** @type {Record<string, import('./lib/core.js').Scenario>} */
const byName = {};
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

export default function () {
  const name = exec.scenario.name;
  const scenario = byName[name];
  if (!scenario) throw new Error('no catalogue scenario named ' + name);
  /** @type {import('./lib/core.js').TemplateContext} */
  const ctx = { vars: vars, captures: {}, vu: __VU, iter: __ITER };
  for (let i = 0; i < scenario.steps.length; i++) {
    const step = scenario.steps[i];
    if (!step) continue;
    const request = renderStep(step, ctx, catalogue.defaults.timeout, MODE);
    const tags = { scenario: name, route: scenario.route, target: TARGET, step: step.name };
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
      // k6 core has no streaming API: hold the subscription for `hold` with a request
      // timeout. Ending by that timeout (error_code 1050) means the stream stayed open:
      // success. Anything else (refused, 4xx/5xx, wrong content type) is an error.
      params.timeout = request.holdMs;
      params.responseType = 'none';
      const res = http.request(request.method, BASE_URL + request.path, request.body, params);
      if (res.error_code === 1050) failure = null;
      else if (res.status === 0) failure = 'network ' + res.error_code;
      else failure = judgeResponse(step, res.status, res.headers['Content-Type']);
      errors.add(failure ? 1 : 0, tags);
      if (failure) break;
      continue;
    }
    params.responseCallback = expected[name + '/' + step.name];
    const res = http.request(request.method, BASE_URL + request.path, request.body, params);
    if (res.status === 0) failure = 'network ' + res.error_code;
    else failure = judgeResponse(step, res.status, res.headers['Content-Type']);
    if (!failure) failure = applyCaptures(step, typeof res.body === 'string' ? res.body : null, ctx);
    latency.add(res.timings.duration, tags);
    errors.add(failure ? 1 : 0, tags);
    if (failure) break;
  }
}

/** @param {import('./lib/summary.js').SummaryData} data */
export function handleSummary(data) {
  const file = __ENV.SUMMARY_JSON || 'k6-summary-' + TARGET + '.json';
  /** @type {Record<string, string>} */
  const out = { stdout: textSummary(data, { target: TARGET, order: built.order }) };
  out[file] = JSON.stringify(
    { target: TARGET, baseUrl: BASE_URL, mode: MODE, scenarios: built.order, k6: data },
    null,
    2,
  );
  return out;
}
