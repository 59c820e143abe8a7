// Pure helpers shared by the k6 scripts (k6/run.js) and the Node runner (src/runner.ts), so
// that a catalogue scenario means exactly the same requests, pacing and thresholds in both.
//
// Rules for this file: no imports at all (neither k6 modules nor Node built-ins), and only
// syntax that k6 0.4x's JavaScript runtime accepts (no optional chaining, no `??`, no class
// fields). It is type-checked twice: with @types/k6 (tsconfig.k6.json) and from the Node side.

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
 * @typedef {{
 *   name: string, character: string, route: string, targets: string[],
 *   notApplicable?: Record<string, string>, load: Load, smoke?: ShortRun, warmup?: ShortRun,
 *   steps: Step[], thresholds?: Thresholds
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
 * Parses a k6-style duration ("250ms", "3s", "1m30s", "1h") into milliseconds.
 * A bare number is taken as seconds, as k6 does.
 * @param {string | number} text
 * @returns {number}
 */
export function parseDuration(text) {
  if (typeof text === 'number') return text * 1000;
  const trimmed = String(text).trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed) * 1000;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
  /** @type {Record<string, number>} */
  const unit = { ms: 1, s: 1000, m: 60000, h: 3600000 };
  let total = 0;
  let consumed = 0;
  let match = re.exec(trimmed);
  while (match !== null) {
    if (match.index !== consumed) break;
    total += Number(match[1]) * /** @type {number} */ (unit[/** @type {string} */ (match[2])]);
    consumed = match.index + match[0].length;
    match = re.exec(trimmed);
  }
  if (consumed === 0 || consumed !== trimmed.length) {
    throw new Error('invalid duration "' + text + '" (expected e.g. "500ms", "3s", "1m30s")');
  }
  return total;
}

/**
 * Formats milliseconds as a k6 duration string ("1500ms" → "1.5s").
 * @param {number} ms
 * @returns {string}
 */
export function formatDuration(ms) {
  if (ms % 1000 === 0) return ms / 1000 + 's';
  return Math.round(ms) + 'ms';
}

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
 * constant-arrival-rate run (scenario override, or the catalogue defaults).
 * @param {Catalogue} catalogue
 * @param {Scenario} scenario
 * @param {Mode} mode
 * @returns {Load}
 */
export function loadFor(catalogue, scenario, mode) {
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

/**
 * k6 `options` for one target: one k6 scenario per catalogue scenario (same name, so k6's
 * `scenario` tag is the catalogue name), run one after another via startTime so they never
 * compete for the machine, with thresholds from the catalogue on the custom metrics.
 * @param {Catalogue} catalogue
 * @param {{ target: string, mode: Mode, only?: string[] }} choice
 * @returns {{ scenarios: Record<string, Record<string, unknown>>, thresholds: Record<string, string[]>, order: string[] }}
 */
export function buildK6Options(catalogue, choice) {
  /** @type {Record<string, Record<string, unknown>>} */
  const scenarios = {};
  /** @type {Record<string, string[]>} */
  const thresholds = {};
  /** @type {string[]} */
  const order = [];
  const gracefulStopMs = parseDuration(catalogue.defaults.gracefulStop);
  let startMs = 0;
  for (let i = 0; i < catalogue.scenarios.length; i++) {
    const scenario = /** @type {Scenario} */ (catalogue.scenarios[i]);
    if (choice.only && choice.only.length > 0 && choice.only.indexOf(scenario.name) === -1) continue;
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
    const limits = thresholdsFor(catalogue, scenario);
    if (!isStreaming(scenario)) {
      thresholds[METRIC_LATENCY + '{scenario:' + scenario.name + '}'] = [
        'p(95)<' + limits.p95Ms,
        'p(99)<' + limits.p99Ms,
      ];
    }
    thresholds[METRIC_ERRORS + '{scenario:' + scenario.name + '}'] = ['rate<=' + limits.errorRate];
    startMs += loadDurationMs(load) + gracefulStopMs;
  }
  return { scenarios: scenarios, thresholds: thresholds, order: order };
}
