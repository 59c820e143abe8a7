// Pure helpers shared by the k6 scripts (k6/run.js) and the Node runner (src/runner.ts), so
// that a catalogue scenario means exactly the same requests, pacing and thresholds in both.
//
// Rules for the files in k6/lib: no imports but each other (neither k6 modules nor Node
// built-ins), and only syntax that k6 0.4x's JavaScript runtime accepts (no optional chaining,
// no `??`, no class fields). They are type-checked twice: with @types/k6 (tsconfig.k6.json) and
// from the Node side.

import { kindPlan, phasesFor, timelineBucketMs } from './kinds.js';
import { formatDuration, parseDuration } from './parse.js';

export { formatDuration, parseDuration };

/**
 * @typedef {Record<string, string | number>} Vars
 * @typedef {{ status: number[], contentType?: string }} Expect
 * @typedef {{
 *   name: string, method: string, path: string,
 *   headers?: Record<string, string>, body?: unknown, timeout?: string,
 *   sse?: { hold: string }, expect: Expect, capture?: Record<string, string>
 * }} Step
 * @typedef {{ target: number, duration: string }} Stage
 * @typedef {{ executor: 'constant-arrival-rate', rate: number, duration: string, preAllocatedVUs?: number, maxVUs?: number }} ConstantArrivalLoad
 * @typedef {{ executor: 'ramping-arrival-rate', startRate: number, stages: Stage[], preAllocatedVUs?: number, maxVUs?: number }} RampingArrivalLoad
 * @typedef {{ executor: 'constant-vus', vus: number, duration: string }} ConstantVusLoad
 * @typedef {ConstantArrivalLoad | RampingArrivalLoad | ConstantVusLoad} Load
 * @typedef {{ rate: number, duration: string }} ShortRun
 * @typedef {{ p95Ms: number, p99Ms: number, errorRate: number }} Thresholds
 * @typedef {{ startRate: number, factor: number, steps: number, stepDuration: string, maxVUs?: number, overshoot?: number, generatorLagMs?: number }} CapacityPlan
 * @typedef {{ rate: number, duration: string, window: string, leakBoundMb: number, maxP99Drift: number, maxVUs?: number }} SoakPlan
 * @typedef {{ baseRate: number, factor: number, before: string, spike: string, after: string, maxVUs?: number }} SpikePlan
 * @typedef {'fixed' | 'capacity' | 'soak' | 'spike'} Kind
 * @typedef {{
 *   name: string, character: string, route: string, targets: string[],
 *   notApplicable?: Record<string, string>, load: Load, smoke?: ShortRun, warmup?: ShortRun,
 *   steps: Step[], thresholds?: Thresholds,
 *   kind?: Kind, of?: string, capacity?: CapacityPlan, soak?: SoakPlan, spike?: SpikePlan
 * }} Scenario
 * @typedef {{
 *   version: number, description?: string, vars: Vars,
 *   defaults: { timeout: string, gracefulStop: string, warmup: ShortRun, smoke: ShortRun, thresholds: Thresholds },
 *   scenarios: Scenario[]
 * }} Catalogue
 * @typedef {'full' | 'smoke' | 'warmup'} Mode
 * @typedef {{ vars: Vars, captures: Record<string, string>, vu: number, iter: number, uuid?: () => string }} TemplateContext
 */

/** Every target a catalogue may name; the k6 `target` tag and the Node runner use these names. */
export const TARGETS = ['legacy', 'modern', 'gateway'];

/** Custom k6 metric names (the Node runner reports the same quantities under the same names). */
export const METRIC_LATENCY = 'pilot_latency';
export const METRIC_ERRORS = 'pilot_errors';

/**
 * Catalogue vars, each overridable from the environment as VAR_<name> (k6: `-e VAR_slug=x`).
 * @param {Vars} vars
 * @param {Record<string, string | undefined>} env
 * @returns {Vars}
 */
export function resolveVars(vars, env) {
  /** @type {Vars} */
  const out = {};
  const keys = Object.keys(vars);
  for (let i = 0; i < keys.length; i++) {
    const key = /** @type {string} */ (keys[i]);
    const override = env['VAR_' + key];
    out[key] =
      override !== undefined && override !== '' ? override : /** @type {string | number} */ (vars[key]);
  }
  return out;
}

/**
 * An RFC 4122 version-4 UUID from Math.random (k6 0.4x has no global crypto.randomUUID).
 * Good enough for unique e-mail addresses; not for secrets.
 * @returns {string}
 */
export function uuidv4() {
  const hex = '0123456789abcdef';
  let out = '';
  for (let i = 0; i < 36; i++) {
    if (i === 8 || i === 13 || i === 18 || i === 23) out += '-';
    else if (i === 14) out += '4';
    else if (i === 19) out += hex.charAt(8 + Math.floor(Math.random() * 4));
    else out += hex.charAt(Math.floor(Math.random() * 16));
  }
  return out;
}

/**
 * Renders one template string. Grammar (all inside `{{ }}`):
 *   uuid            a fresh random UUID (unique per use)
 *   vu, iter        the virtual user id and its iteration number
 *   cycle:a,b,c     one of the listed values, chosen by iteration number
 *   <name>          a value captured by an earlier step of this iteration, else a catalogue var
 * Anything else is an error, so a typo fails the first request instead of sending "{{slgu}}".
 * @param {string} text
 * @param {TemplateContext} ctx
 * @returns {string}
 */
export function renderTemplate(text, ctx) {
  return text.replace(/\{\{\s*([^}]+?)\s*\}\}/g, (_whole, /** @type {string} */ expr) => {
    if (expr === 'uuid') return ctx.uuid ? ctx.uuid() : uuidv4();
    if (expr === 'vu') return String(ctx.vu);
    if (expr === 'iter') return String(ctx.iter);
    if (expr.indexOf('cycle:') === 0) {
      const options = expr.slice(6).split(',');
      return /** @type {string} */ (options[ctx.iter % options.length]).trim();
    }
    if (has(ctx.captures, expr)) return String(ctx.captures[expr]);
    if (has(ctx.vars, expr)) return String(ctx.vars[expr]);
    throw new Error('unknown template variable {{' + expr + '}}');
  });
}

/**
 * Own-property test.
 * @param {object} obj
 * @param {string} key
 * @returns {boolean}
 */
function has(obj, key) {
  // biome-ignore lint/suspicious/noPrototypeBuiltins: Object.hasOwn is missing from k6 0.4x's JavaScript runtime
  return Object.prototype.hasOwnProperty.call(obj, key);
}

/**
 * Renders every string inside a JSON-like value (request bodies, header maps).
 * @param {unknown} value
 * @param {TemplateContext} ctx
 * @returns {unknown}
 */
export function renderValue(value, ctx) {
  if (typeof value === 'string') return renderTemplate(value, ctx);
  if (Array.isArray(value)) return value.map((item) => renderValue(item, ctx));
  if (value !== null && typeof value === 'object') {
    /** @type {Record<string, unknown>} */
    const out = {};
    const source = /** @type {Record<string, unknown>} */ (value);
    const keys = Object.keys(source);
    for (let i = 0; i < keys.length; i++) {
      const key = /** @type {string} */ (keys[i]);
      out[key] = renderValue(source[key], ctx);
    }
    return out;
  }
  return value;
}

/**
 * The concrete request of one step for one iteration.
 * @param {Step} step
 * @param {TemplateContext} ctx
 * @param {string} defaultTimeout
 * @param {Mode} [mode] smoke and warm-up runs hold SSE subscriptions at most SHORT_HOLD_MS
 * @returns {{ method: string, path: string, headers: Record<string, string>, body: string | null, timeoutMs: number, holdMs: number }}
 */
export function renderStep(step, ctx, defaultTimeout, mode) {
  const headers = /** @type {Record<string, string>} */ (renderValue(step.headers || {}, ctx));
  let body = null;
  if (step.body !== undefined) {
    body =
      typeof step.body === 'string'
        ? renderTemplate(step.body, ctx)
        : JSON.stringify(renderValue(step.body, ctx));
  }
  return {
    method: step.method,
    path: renderTemplate(step.path, ctx),
    headers: headers,
    body: body,
    timeoutMs: parseDuration(step.timeout || defaultTimeout),
    holdMs: step.sse ? holdFor(parseDuration(step.sse.hold), mode) : 0,
  };
}

/**
 * Number of complete server-sent event blocks (each ends with a blank line) in a text.
 * @param {string} text
 * @returns {number}
 */
export function countEvents(text) {
  const matches = text.replace(/\r\n/g, '\n').match(/\n\n/g);
  return matches ? matches.length : 0;
}

/** The longest SSE hold in smoke and warm-up runs (they assert correctness, not endurance). */
export const SHORT_HOLD_MS = 1000;

/**
 * @param {number} holdMs
 * @param {Mode | undefined} mode
 * @returns {number}
 */
function holdFor(holdMs, mode) {
  return mode === 'smoke' || mode === 'warmup' ? Math.min(holdMs, SHORT_HOLD_MS) : holdMs;
}

/**
 * Reads a dotted path ("data.0.slug") out of a parsed JSON body.
 * @param {unknown} value
 * @param {string} path
 * @returns {unknown}
 */
export function pickPath(value, path) {
  const parts = path.split('.');
  let current = value;
  for (let i = 0; i < parts.length; i++) {
    if (current === null || typeof current !== 'object') return undefined;
    current = /** @type {Record<string, unknown>} */ (current)[/** @type {string} */ (parts[i])];
  }
  return current;
}

/**
 * Stores the step's `capture` paths from a response body into ctx.captures.
 * Returns an error message when a capture is missing (the iteration cannot continue).
 * @param {Step} step
 * @param {string | null} bodyText
 * @param {TemplateContext} ctx
 * @returns {string | null}
 */
export function applyCaptures(step, bodyText, ctx) {
  if (!step.capture) return null;
  let parsed;
  try {
    parsed = JSON.parse(bodyText || '');
  } catch (_error) {
    return 'capture failed: response of step "' + step.name + '" is not JSON';
  }
  const names = Object.keys(step.capture);
  for (let i = 0; i < names.length; i++) {
    const name = /** @type {string} */ (names[i]);
    const found = pickPath(parsed, /** @type {string} */ (step.capture[name]));
    if (found === undefined || found === null || typeof found === 'object') {
      return 'capture failed: "' + step.capture[name] + '" missing in response of step "' + step.name + '"';
    }
    ctx.captures[name] = String(found);
  }
  return null;
}

/**
 * Judges one response against the step's expectations. Returns null when it is as expected,
 * else a short error class such as "status 500" or "content-type text/html".
 * @param {Step} step
 * @param {number} status
 * @param {string | null | undefined} contentType
 * @returns {string | null}
 */
export function judgeResponse(step, status, contentType) {
  if (step.expect.status.indexOf(status) === -1) return 'status ' + status;
  if (step.expect.contentType) {
    const actual = String(contentType || '').toLowerCase();
    if (actual.indexOf(step.expect.contentType.toLowerCase()) === -1) {
      return 'content-type ' + (actual || '(none)');
    }
  }
  return null;
}

/**
 * Whether a scenario runs against a target (SSE has no legacy implementation).
 * @param {Scenario} scenario
 * @param {string} target
 * @returns {boolean}
 */
export function appliesTo(scenario, target) {
  return scenario.targets.indexOf(target) !== -1;
}

/**
 * The load to apply for a mode: the catalogue's load for a full run, else a short
 * constant-arrival-rate run (scenario override, or the catalogue defaults). A kind scenario
 * (capacity, soak, spike) gets its own shape in full and smoke runs (kinds.js).
 * @param {Catalogue} catalogue
 * @param {Scenario} scenario
 * @param {Mode} mode
 * @returns {Load}
 */
export function loadFor(catalogue, scenario, mode) {
  const plan = kindPlan(catalogue, scenario, mode);
  if (plan) return plan.load;
  if (mode === 'full') return scenario.load;
  const short =
    mode === 'smoke'
      ? scenario.smoke || catalogue.defaults.smoke
      : scenario.warmup || catalogue.defaults.warmup;
  const max = 'maxVUs' in scenario.load && scenario.load.maxVUs ? scenario.load.maxVUs : 100;
  if (scenario.load.executor === 'constant-vus') {
    return {
      executor: 'constant-vus',
      vus: Math.max(1, Math.min(scenario.load.vus, short.rate)),
      duration: short.duration,
    };
  }
  return {
    executor: 'constant-arrival-rate',
    rate: short.rate,
    duration: short.duration,
    preAllocatedVUs: Math.min(max, Math.max(1, short.rate)),
    maxVUs: max,
  };
}

/**
 * How long a load runs, in milliseconds (not counting graceful stop).
 * @param {Load} load
 * @returns {number}
 */
export function loadDurationMs(load) {
  if (load.executor === 'ramping-arrival-rate') {
    let total = 0;
    for (let i = 0; i < load.stages.length; i++)
      total += parseDuration(/** @type {Stage} */ (load.stages[i]).duration);
    return total;
  }
  return parseDuration(load.duration);
}

/**
 * The thresholds in force for a scenario (its own, else the catalogue defaults).
 * @param {Catalogue} catalogue
 * @param {Scenario} scenario
 * @returns {Thresholds}
 */
export function thresholdsFor(catalogue, scenario) {
  return scenario.thresholds || catalogue.defaults.thresholds;
}

/**
 * Whether a scenario consists of SSE steps only (k6 core cannot time an unfinished stream,
 * so its latency thresholds are enforced by the Node runner only).
 * @param {Scenario} scenario
 * @returns {boolean}
 */
export function isStreaming(scenario) {
  for (let i = 0; i < scenario.steps.length; i++)
    if (!(/** @type {Step} */ (scenario.steps[i]).sse)) return false;
  return true;
}

/** Always-true thresholds: they make k6 keep a sub-metric in the summary without judging it. */
const KEEP = { trend: 'max>=0', rate: 'rate>=0', counter: 'count>=0' };

/** The counter of started iterations (achieved rate; offered minus started is what k6 dropped). */
export const METRIC_ITERATIONS = 'pilot_iterations';

/**
 * Where each scenario sits in a k6 run and how its samples are bucketed, for handleSummary
 * and the probe (k6/run.js): start offset, duration, timeline bucket width, kind phases.
 * @typedef {{ name: string, kind: string, startMs: number, durationMs: number, bucketMs: number, buckets: number, phases: import('./kinds.js').Phase[], load: Load, streaming: boolean }} ScenarioLayout
 */

/**
 * k6 `options` for one target: one k6 scenario per catalogue scenario (same name, so k6's
 * `scenario` tag is the catalogue name), run one after another via startTime so they never
 * compete for the machine, with thresholds from the catalogue on the custom metrics.
 *
 * Capacity and spike scenarios are meant to cross the SLO, so their thresholds only keep the
 * sub-metrics in the summary (the verdict is the analysis, not k6's exit code). Every scenario
 * also keeps per-bucket (`w`) and per-phase (`phase`) sub-metrics: the timelines and the
 * capacity steps of the report come from them, since k6's summary has no time series.
 * @param {Catalogue} catalogue
 * @param {{ target: string, mode: Mode, only?: string[], kinds?: string[] }} choice `only` names
 *   scenarios of any kind; else `kinds` (default: every kind) picks them
 * @returns {{ scenarios: Record<string, Record<string, unknown>>, thresholds: Record<string, string[]>, order: string[], layout: ScenarioLayout[] }}
 */
export function buildK6Options(catalogue, choice) {
  /** @type {Record<string, Record<string, unknown>>} */
  const scenarios = {};
  /** @type {Record<string, string[]>} */
  const thresholds = {};
  /** @type {string[]} */
  const order = [];
  /** @type {ScenarioLayout[]} */
  const layout = [];
  const gracefulStopMs = parseDuration(catalogue.defaults.gracefulStop);
  let startMs = 0;
  for (let i = 0; i < catalogue.scenarios.length; i++) {
    const scenario = /** @type {Scenario} */ (catalogue.scenarios[i]);
    const named = choice.only && choice.only.length > 0;
    if (named && /** @type {string[]} */ (choice.only).indexOf(scenario.name) === -1) continue;
    if (!named && choice.kinds && choice.kinds.indexOf(scenario.kind || 'fixed') === -1) continue;
    if (!appliesTo(scenario, choice.target)) continue;
    const load = loadFor(catalogue, scenario, choice.mode);
    /** @type {Record<string, unknown>} */
    const k6 = {
      executor: load.executor,
      startTime: formatDuration(startMs),
      gracefulStop: catalogue.defaults.gracefulStop,
      tags: { route: scenario.route, target: choice.target },
    };
    if (load.executor === 'constant-arrival-rate') {
      k6.rate = load.rate;
      k6.timeUnit = '1s';
      k6.duration = load.duration;
      k6.preAllocatedVUs = load.preAllocatedVUs || Math.max(1, Math.ceil(load.rate / 10));
      k6.maxVUs = load.maxVUs || Math.max(10, load.rate * 2);
    } else if (load.executor === 'ramping-arrival-rate') {
      k6.startRate = load.startRate;
      k6.timeUnit = '1s';
      k6.stages = load.stages.map((stage) => ({ target: stage.target, duration: stage.duration }));
      k6.preAllocatedVUs = load.preAllocatedVUs || 1;
      k6.maxVUs = load.maxVUs || 100;
    } else {
      k6.vus = load.vus;
      k6.duration = load.duration;
    }
    scenarios[scenario.name] = k6;
    order.push(scenario.name);
    const name = scenario.name;
    const limits = thresholdsFor(catalogue, scenario);
    const streaming = isStreaming(scenario);
    const judged = !scenario.kind || scenario.kind === 'fixed' || scenario.kind === 'soak';
    if (!streaming) {
      thresholds[METRIC_LATENCY + '{scenario:' + name + '}'] = judged
        ? ['p(95)<' + limits.p95Ms, 'p(99)<' + limits.p99Ms]
        : [KEEP.trend];
    }
    thresholds[METRIC_ERRORS + '{scenario:' + name + '}'] = [
      judged ? 'rate<=' + limits.errorRate : KEEP.rate,
    ];
    thresholds[METRIC_ITERATIONS + '{scenario:' + name + '}'] = [KEEP.counter];
    for (let j = 0; j < scenario.steps.length; j++) {
      const step = /** @type {Step} */ (scenario.steps[j]);
      if (scenario.steps.length > 1 && !step.sse)
        thresholds[METRIC_LATENCY + '{scenario:' + name + ',step:' + step.name + '}'] = [KEEP.trend];
    }
    const durationMs = loadDurationMs(load);
    const bucketMs = timelineBucketMs(durationMs);
    const buckets = Math.max(1, Math.ceil(durationMs / bucketMs));
    const phases = phasesFor(catalogue, scenario, choice.mode);
    /** @type {Array<[string, string]>} */
    const keys = [];
    for (let w = 0; w < buckets; w++) keys.push(['w', String(w)]);
    for (let p = 0; p < phases.length; p++) keys.push(['phase', String(p)]);
    for (let k = 0; k < keys.length; k++) {
      const key = /** @type {[string, string]} */ (keys[k]);
      const tag = ',' + key[0] + ':' + key[1] + '}';
      if (!streaming) thresholds[METRIC_LATENCY + '{scenario:' + name + tag] = [KEEP.trend];
      thresholds[METRIC_ERRORS + '{scenario:' + name + tag] = [KEEP.rate];
      thresholds[METRIC_ITERATIONS + '{scenario:' + name + tag] = [KEEP.counter];
    }
    layout.push({
      name: name,
      kind: scenario.kind || 'fixed',
      startMs: startMs,
      durationMs: durationMs,
      bucketMs: bucketMs,
      buckets: buckets,
      phases: phases,
      load: load,
      streaming: streaming,
    });
    startMs += durationMs + gracefulStopMs;
  }
  return { scenarios: scenarios, thresholds: thresholds, order: order, layout: layout };
}

/**
 * Which timeline bucket and phase an iteration starting `elapsedMs` into its scenario
 * belongs to (the `w` and `phase` tags; phase -1: none).
 * @param {ScenarioLayout} layout
 * @param {number} elapsedMs
 * @returns {{ w: number, phase: number }}
 */
export function bucketOf(layout, elapsedMs) {
  const w = Math.min(layout.buckets - 1, Math.max(0, Math.floor(elapsedMs / layout.bucketMs)));
  let phase = -1;
  for (let i = 0; i < layout.phases.length; i++) {
    const p = /** @type {import('./kinds.js').Phase} */ (layout.phases[i]);
    if (elapsedMs >= p.startMs && elapsedMs < p.endMs) phase = i;
  }
  if (phase === -1 && layout.phases.length > 0 && elapsedMs >= 0) phase = layout.phases.length - 1;
  return { w: w, phase: phase };
}
