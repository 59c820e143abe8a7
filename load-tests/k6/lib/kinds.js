// Scenario kinds beyond a fixed rate, shared by the k6 scripts and the Node runner:
//
//   capacity  stepped arrival rate (open model) until the SLO breaks: capacity at SLO, knee
//   soak      one rate for a long time: RSS and p99 drift, a leak bound
//   spike     a base rate, then `factor`× for a short time, then the base again: errors, recovery
//
// A kind scenario names a fixed scenario (`of`) and inherits its requests, targets and
// thresholds; resolveCatalogue() copies them in, so the engines only see complete scenarios.
// Same rules as core.js: plain ES module, no k6 or Node imports, syntax k6 0.4x accepts.

import { formatDuration, parseDuration } from './parse.js';

/**
 * @typedef {import('./core.js').Catalogue} Catalogue
 * @typedef {import('./core.js').Scenario} Scenario
 * @typedef {import('./core.js').Load} Load
 * @typedef {import('./core.js').Mode} Mode
 * @typedef {import('./core.js').Stage} Stage
 * @typedef {{ name: string, rate: number, startMs: number, endMs: number }} Phase
 */

/** Every scenario kind; `fixed` (the default) is one load from the catalogue entry. */
export const KINDS = ['fixed', 'capacity', 'soak', 'spike'];

/** Defaults of a capacity block. */
export const CAPACITY_DEFAULTS = { overshoot: 1, generatorLagMs: 50 };

/**
 * @param {Scenario} scenario
 * @returns {string}
 */
export function kindOf(scenario) {
  return scenario.kind || 'fixed';
}

/**
 * The catalogue with every kind scenario completed from the fixed scenario it names (`of`):
 * steps, targets, notApplicable, route and thresholds, unless the entry gives its own, and a
 * `load` for the full run built from its plan. Throws on an `of` that names no fixed scenario.
 * @param {Catalogue} raw
 * @returns {Catalogue}
 */
export function resolveCatalogue(raw) {
  /** @type {Record<string, Scenario>} */
  const fixed = {};
  for (let i = 0; i < raw.scenarios.length; i++) {
    const s = /** @type {Scenario} */ (raw.scenarios[i]);
    if (kindOf(s) === 'fixed') fixed[s.name] = s;
  }
  /** @type {Scenario[]} */
  const scenarios = [];
  for (let i = 0; i < raw.scenarios.length; i++) {
    const s = /** @type {Scenario} */ (raw.scenarios[i]);
    if (kindOf(s) === 'fixed') {
      scenarios.push(s);
      continue;
    }
    const base = s.of ? fixed[s.of] : undefined;
    if (!base) throw new Error('scenario "' + s.name + '": "of" must name a fixed scenario, got ' + s.of);
    /** @type {Scenario} */
    const resolved = {
      name: s.name,
      kind: s.kind,
      of: s.of,
      character: s.character || base.character + ' (' + s.kind + ')',
      route: base.route,
      targets: s.targets || base.targets,
      load: /** @type {Load} */ (fullLoad(s)),
      steps: base.steps,
    };
    const notApplicable = s.notApplicable || base.notApplicable;
    if (notApplicable) resolved.notApplicable = notApplicable;
    const thresholds = s.thresholds || base.thresholds;
    if (thresholds) resolved.thresholds = thresholds;
    if (s.smoke) resolved.smoke = s.smoke;
    if (s.warmup || base.warmup) resolved.warmup = s.warmup || base.warmup;
    if (s.capacity) resolved.capacity = s.capacity;
    if (s.soak) resolved.soak = s.soak;
    if (s.spike) resolved.spike = s.spike;
    scenarios.push(resolved);
  }
  /** @type {Catalogue} */
  const out = {
    version: raw.version,
    vars: raw.vars,
    defaults: raw.defaults,
    scenarios: scenarios,
  };
  if (raw.description !== undefined) out.description = raw.description;
  return out;
}

/**
 * The offered rates of a capacity plan, one per step: startRate × factor^i, rounded to whole
 * iterations per second (k6's arrival rates are integers).
 * @param {{ startRate: number, factor: number, steps: number }} plan
 * @returns {number[]}
 */
export function capacityRates(plan) {
  const out = [];
  for (let i = 0; i < plan.steps; i++) out.push(Math.max(1, Math.round(plan.startRate * plan.factor ** i)));
  return out;
}

/**
 * A stepped ramping-arrival-rate load: each rate held for `stepMs`, jumps between them in no
 * time (k6 accepts 0-length stages for exactly this).
 * @param {number[]} rates
 * @param {number} stepMs
 * @param {number} maxVUs
 * @returns {Load}
 */
function steppedLoad(rates, stepMs, maxVUs) {
  /** @type {Stage[]} */
  const stages = [];
  for (let i = 0; i < rates.length; i++) {
    if (i > 0) stages.push({ target: /** @type {number} */ (rates[i]), duration: '0s' });
    stages.push({ target: /** @type {number} */ (rates[i]), duration: formatDuration(stepMs) });
  }
  return {
    executor: 'ramping-arrival-rate',
    startRate: /** @type {number} */ (rates[0]),
    stages: stages,
    preAllocatedVUs: Math.min(maxVUs, Math.max(1, Math.ceil(/** @type {number} */ (rates[0]) / 10))),
    maxVUs: maxVUs,
  };
}

/**
 * The phases of a kind scenario's run, for per-phase statistics: capacity steps, the spike's
 * before/spike/after, the soak's windows. Empty for a fixed scenario.
 * @param {Catalogue} catalogue
 * @param {Scenario} scenario
 * @param {Mode} mode
 * @returns {Phase[]}
 */
export function phasesFor(catalogue, scenario, mode) {
  const plan = kindPlan(catalogue, scenario, mode);
  return plan ? plan.phases : [];
}

/**
 * @param {Scenario} scenario
 * @returns {Load}
 */
function fullLoad(scenario) {
  const plan = planFromBlocks(scenario, null);
  if (!plan) throw new Error('scenario "' + scenario.name + '" has no ' + scenario.kind + ' block');
  return plan.load;
}

/**
 * The load and phases of a kind scenario in a mode (null for fixed scenarios and warm-ups,
 * which use core.js's loadFor).
 * @param {Catalogue} catalogue
 * @param {Scenario} scenario
 * @param {Mode} mode
 * @returns {{ load: Load, phases: Phase[] } | null}
 */
export function kindPlan(catalogue, scenario, mode) {
  if (kindOf(scenario) === 'fixed' || mode === 'warmup') return null;
  if (mode === 'full') return planFromBlocks(scenario, null);
  return planFromBlocks(scenario, scenario.smoke || catalogue.defaults.smoke);
}

/**
 * @param {Scenario} scenario
 * @param {{ rate: number, duration: string } | null} smoke short version when given
 * @returns {{ load: Load, phases: Phase[] } | null}
 */
function planFromBlocks(scenario, smoke) {
  if (scenario.kind === 'capacity' && scenario.capacity) {
    const c = scenario.capacity;
    const rates = smoke ? [smoke.rate, smoke.rate * 2] : capacityRates(c);
    const stepMs = smoke
      ? Math.max(500, Math.round(parseDuration(smoke.duration) / 2))
      : parseDuration(c.stepDuration);
    const maxVUs = c.maxVUs || 100;
    /** @type {Phase[]} */
    const phases = [];
    for (let i = 0; i < rates.length; i++) {
      phases.push({
        name: 'step ' + (i + 1),
        rate: /** @type {number} */ (rates[i]),
        startMs: i * stepMs,
        endMs: (i + 1) * stepMs,
      });
    }
    return { load: steppedLoad(rates, stepMs, maxVUs), phases: phases };
  }
  if (scenario.kind === 'soak' && scenario.soak) {
    const s = scenario.soak;
    const rate = smoke ? smoke.rate : s.rate;
    const durationMs = parseDuration(smoke ? smoke.duration : s.duration);
    const windowMs = smoke ? Math.max(1000, Math.floor(durationMs / 3)) : parseDuration(s.window);
    /** @type {Phase[]} */
    const phases = [];
    for (let start = 0, i = 1; start < durationMs; start += windowMs, i++) {
      phases.push({
        name: 'window ' + i,
        rate: rate,
        startMs: start,
        endMs: Math.min(durationMs, start + windowMs),
      });
    }
    return {
      load: {
        executor: 'constant-arrival-rate',
        rate: rate,
        duration: formatDuration(durationMs),
        preAllocatedVUs: Math.min(s.maxVUs || 100, Math.max(1, Math.ceil(rate / 10))),
        maxVUs: s.maxVUs || 100,
      },
      phases: phases,
    };
  }
  if (scenario.kind === 'spike' && scenario.spike) {
    const p = scenario.spike;
    const base = smoke ? smoke.rate : p.baseRate;
    const peak = base * p.factor;
    const third = smoke ? Math.max(500, Math.round(parseDuration(smoke.duration) / 3)) : 0;
    const beforeMs = smoke ? third : parseDuration(p.before);
    const spikeMs = smoke ? third : parseDuration(p.spike);
    const afterMs = smoke ? third * 2 : parseDuration(p.after);
    const maxVUs = p.maxVUs || 100;
    return {
      load: {
        executor: 'ramping-arrival-rate',
        startRate: base,
        stages: [
          { target: base, duration: formatDuration(beforeMs) },
          { target: peak, duration: '0s' },
          { target: peak, duration: formatDuration(spikeMs) },
          { target: base, duration: '0s' },
          { target: base, duration: formatDuration(afterMs) },
        ],
        preAllocatedVUs: Math.min(maxVUs, Math.max(1, Math.ceil(base / 10))),
        maxVUs: maxVUs,
      },
      phases: [
        { name: 'before', rate: base, startMs: 0, endMs: beforeMs },
        { name: 'spike', rate: peak, startMs: beforeMs, endMs: beforeMs + spikeMs },
        { name: 'after', rate: base, startMs: beforeMs + spikeMs, endMs: beforeMs + spikeMs + afterMs },
      ],
    };
  }
  return null;
}

/**
 * Width of one timeline bucket for a run of `durationMs`: 1 s up to a minute, then wider so a
 * run has at most about 60 buckets (a 10-minute soak: 10 s).
 * @param {number} durationMs
 * @returns {number}
 */
export function timelineBucketMs(durationMs) {
  if (durationMs <= 60000) return 1000;
  return Math.ceil(durationMs / 60000) * 1000;
}

/**
 * Iterations an arrival-rate load has due by `tMs` (a real number: the integral of the rate).
 * The i-th iteration (from 0) starts when this reaches i, as in src/pacing.ts.
 * @param {Load} load
 * @param {number} tMs
 * @returns {number}
 */
export function iterationsDue(load, tMs) {
  if (load.executor === 'constant-vus') return 0;
  if (load.executor === 'constant-arrival-rate') {
    return (load.rate * Math.min(tMs, parseDuration(load.duration))) / 1000;
  }
  let total = 0;
  let from = load.startRate;
  let start = 0;
  for (let i = 0; i < load.stages.length; i++) {
    const stage = /** @type {Stage} */ (load.stages[i]);
    const d = parseDuration(stage.duration);
    if (tMs <= start) break;
    const t = Math.min(tMs - start, d);
    if (d > 0) total += (from * t + ((stage.target - from) * t * t) / (2 * d)) / 1000;
    start += d;
    from = stage.target;
  }
  return total;
}

/**
 * How many iterations a load starts in [fromMs, toMs): the iterations whose scheduled start
 * falls in that interval.
 * @param {Load} load
 * @param {number} fromMs
 * @param {number} toMs
 * @returns {number}
 */
export function iterationsBetween(load, fromMs, toMs) {
  const eps = 1e-9;
  return Math.max(
    0,
    Math.ceil(iterationsDue(load, toMs) - eps) - Math.ceil(iterationsDue(load, fromMs) - eps),
  );
}
