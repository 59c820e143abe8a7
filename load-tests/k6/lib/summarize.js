// From runs to the numbers a migration review reads, shared by `pnpm compare` (src/summary.ts
// re-exports these with types) and k6's handleSummary: per scenario and target the median of
// each metric over repeat rounds with its run-to-run noise, and the ratios between targets
// (modern ÷ legacy, gateway ÷ the backend it routed to), each naming what it divides.
// Plain ES module, no imports, syntax k6 0.4x accepts.

/**
 * The fields of a run (src/model.ts RunResult) read here.
 * @typedef {{ name: string, cpuPer1k: number | null, peakRssBytes: number | null }} CostProcess
 * @typedef {{
 *   scenario: string, kind: string, target: string, round: number, errorRate: number,
 *   latency: { count: number, p50: number, p99: number },
 *   servedBy: Record<string, number>,
 *   capacity?: { capacityAtSlo: number | null, limitedBy?: string },
 *   spike?: { recoverySeconds: number | null },
 *   soak?: { rss: Array<{ name: string, growthMb: number }>, p99Drift: number | null },
 *   cost: { processes: CostProcess[], own: string, pathCpuPer1k: number | null } | null
 * }} RunLike
 * @typedef {{ value: number | null, values: Array<number | null>, noise: number | null }} MetricSummary
 * @typedef {{ scenario: string, kind: string, target: string, rounds: number, metrics: Record<string, MetricSummary> }} ScenarioSummary
 * @typedef {{ scenario: string, metric: string, numerator: string, denominator: string, basis?: string, value: number | null, note?: string }} Ratio
 */

/** Which metrics each kind of scenario is judged on (a fixed run's req/s is its offered rate). */
export const KIND_METRICS = {
  fixed: ['p50', 'p99', 'errorRate', 'cpuPer1k', 'pathCpuPer1k', 'peakRssMb'],
  capacity: ['capacity', 'cpuPer1k', 'pathCpuPer1k', 'peakRssMb'],
  soak: ['p99', 'errorRate', 'rssGrowthMb', 'p99Drift', 'cpuPer1k', 'peakRssMb'],
  spike: ['recoverySeconds', 'errorRate', 'p99', 'peakRssMb'],
};

/**
 * @param {string} kind
 * @returns {string[]}
 */
export function kindMetrics(kind) {
  return /** @type {Record<string, string[]>} */ (KIND_METRICS)[kind] || KIND_METRICS.fixed;
}

/**
 * The value of one metric in one run (null: not measured there).
 * @param {RunLike} run
 * @param {string} key
 * @returns {number | null}
 */
export function metricOf(run, key) {
  /** @type {CostProcess | undefined} */
  let own;
  if (run.cost) {
    for (let i = 0; i < run.cost.processes.length; i++) {
      const p = /** @type {CostProcess} */ (run.cost.processes[i]);
      if (p.name === run.cost.own) own = p;
    }
  }
  if (key === 'capacity') return run.capacity ? run.capacity.capacityAtSlo || 0 : null;
  if (key === 'p50') return run.latency.count > 0 ? run.latency.p50 : null;
  if (key === 'p99') return run.latency.count > 0 ? run.latency.p99 : null;
  if (key === 'errorRate') return run.errorRate;
  if (key === 'cpuPer1k') return own && own.cpuPer1k !== null ? own.cpuPer1k : null;
  if (key === 'pathCpuPer1k') return run.cost ? run.cost.pathCpuPer1k : null;
  if (key === 'peakRssMb')
    // biome-ignore lint/complexity/useOptionalChain: k6 0.4x cannot parse optional chaining
    return own && own.peakRssBytes ? Math.round((own.peakRssBytes / 1048576) * 10) / 10 : null;
  if (key === 'recoverySeconds') return run.spike ? run.spike.recoverySeconds : null;
  if (key === 'rssGrowthMb') {
    if (!run.soak) return null;
    for (let i = 0; i < run.soak.rss.length; i++) {
      const r = /** @type {{ name: string, growthMb: number }} */ (run.soak.rss[i]);
      if (r.name === run.target) return r.growthMb;
    }
    return null;
  }
  if (key === 'p99Drift') return run.soak ? run.soak.p99Drift : null;
  return null;
}

/**
 * @param {number[]} values
 * @returns {number | null}
 */
export function median(values) {
  if (values.length === 0) return null;
  const sorted = values.slice().sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const upper = /** @type {number} */ (sorted[mid]);
  if (sorted.length % 2 === 1) return upper;
  const lower = /** @type {number} */ (sorted[mid - 1]);
  return (lower + upper) / 2;
}

/**
 * Relative spread of repeat measurements: (max − min) ÷ |median|; null under 2 values.
 * @param {number[]} values
 * @returns {number | null}
 */
export function noiseOf(values) {
  if (values.length < 2) return null;
  const m = /** @type {number} */ (median(values));
  const spread = Math.max.apply(null, values) - Math.min.apply(null, values);
  if (m === 0) return spread === 0 ? 0 : null;
  return Math.round((spread / Math.abs(m)) * 1000) / 1000;
}

/**
 * @param {RunLike[]} runs
 * @returns {ScenarioSummary[]}
 */
export function summarize(runs) {
  /** @type {string[]} */
  const order = [];
  /** @type {Record<string, RunLike[]>} */
  const groups = {};
  for (let i = 0; i < runs.length; i++) {
    const run = /** @type {RunLike} */ (runs[i]);
    const key = run.scenario + '\u0000' + run.target;
    if (!groups[key]) {
      groups[key] = [];
      order.push(key);
    }
    /** @type {RunLike[]} */ (groups[key]).push(run);
  }
  /** @type {ScenarioSummary[]} */
  const out = [];
  for (let g = 0; g < order.length; g++) {
    const group = /** @type {RunLike[]} */ (groups[/** @type {string} */ (order[g])]);
    const first = /** @type {RunLike} */ (group[0]);
    /** @type {Record<string, MetricSummary>} */
    const metrics = {};
    const keys = kindMetrics(first.kind);
    for (let k = 0; k < keys.length; k++) {
      const key = /** @type {string} */ (keys[k]);
      const vals = [];
      const present = [];
      for (let i = 0; i < group.length; i++) {
        const v = metricOf(/** @type {RunLike} */ (group[i]), key);
        vals.push(v);
        if (v !== null) present.push(v);
      }
      metrics[key] = { value: median(present), values: vals, noise: noiseOf(present) };
    }
    out.push({
      scenario: first.scenario,
      kind: first.kind,
      target: first.target,
      rounds: group.length,
      metrics: metrics,
    });
  }
  return out;
}

/**
 * The backend the gateway's numbers should be compared with: the one its backend header
 * named most often; else legacy (the strangler default) when legacy runs the scenario,
 * else modern.
 * @param {{ servedBy: Record<string, number> }} gateway
 * @param {string[]} available
 * @returns {{ direct: string, basis: string } | null}
 */
export function directFor(gateway, available) {
  let top = null;
  let most = 0;
  const names = Object.keys(gateway.servedBy);
  for (let i = 0; i < names.length; i++) {
    const name = /** @type {string} */ (names[i]);
    const n = gateway.servedBy[name] || 0;
    if ((name === 'legacy' || name === 'modern') && n > most) {
      most = n;
      top = name;
    }
  }
  if (top && available.indexOf(top) !== -1) return { direct: top, basis: 'backend header' };
  if (available.indexOf('legacy') !== -1) return { direct: 'legacy', basis: 'default: no backend header' };
  if (available.indexOf('modern') !== -1) return { direct: 'modern', basis: 'default: no backend header' };
  return null;
}

/**
 * @param {number | null | undefined} a
 * @param {number | null | undefined} b
 * @returns {number | null}
 */
export function ratio(a, b) {
  if (a === null || a === undefined || b === null || b === undefined || b === 0 || !Number.isFinite(a / b))
    return null;
  return Math.round((a / b) * 100) / 100;
}

/**
 * modern ÷ legacy and gateway ÷ direct for every metric the scenario's kind is judged on
 * (error rates are compared as they are, not as ratios). For CPU, gateway ÷ direct divides
 * whole paths (gateway + backends ÷ the direct backend's path): what the gateway in front costs.
 * @param {ScenarioSummary[]} summaries
 * @param {RunLike[]} runs
 * @returns {Ratio[]}
 */
export function computeRatios(summaries, runs) {
  /** @type {Ratio[]} */
  const out = [];
  /** @type {string[]} */
  const scenarios = [];
  for (let i = 0; i < summaries.length; i++) {
    const name = /** @type {ScenarioSummary} */ (summaries[i]).scenario;
    if (scenarios.indexOf(name) === -1) scenarios.push(name);
  }
  for (let s = 0; s < scenarios.length; s++) {
    const scenario = /** @type {string} */ (scenarios[s]);
    /** @param {string} t */
    const of = (t) => {
      for (let i = 0; i < summaries.length; i++) {
        const x = /** @type {ScenarioSummary} */ (summaries[i]);
        if (x.scenario === scenario && x.target === t) return x;
      }
      return undefined;
    };
    const legacy = of('legacy');
    const modern = of('modern');
    const gateway = of('gateway');
    const any = /** @type {ScenarioSummary} */ (legacy || modern || gateway);
    const keys = kindMetrics(any.kind).filter((k) => k !== 'errorRate');
    /**
     * A capacity that did not end at an SLO break is a bound ("≥"), and so is a ratio with it.
     * @param {string} metric
     * @param {string} numerator
     * @param {string} denominator
     * @returns {string | undefined}
     */
    const boundNote = (metric, numerator, denominator) => {
      if (metric !== 'capacity') return undefined;
      const bounded = [];
      for (let i = 0; i < runs.length; i++) {
        const r = /** @type {RunLike} */ (runs[i]);
        if (r.scenario !== scenario || !r.capacity || r.capacity.limitedBy === 'slo') continue;
        if ((r.target === numerator || r.target === denominator) && bounded.indexOf(r.target) === -1)
          bounded.push(r.target);
      }
      return bounded.length > 0
        ? 'capacity of ' +
            bounded.join(' and ') +
            ' is a lower bound (≥: never broke, or the load generator was the limit)'
        : undefined;
    };
    /** @param {ScenarioSummary | undefined} x @param {string} key */
    const val = (x, key) => {
      const m = x ? x.metrics[key] : undefined;
      return m ? m.value : null;
    };
    if (legacy && modern) {
      for (let k = 0; k < keys.length; k++) {
        const metric = /** @type {string} */ (keys[k]);
        /** @type {Ratio} */
        const r = {
          scenario: scenario,
          metric: metric,
          numerator: 'modern',
          denominator: 'legacy',
          value: ratio(val(modern, metric), val(legacy, metric)),
        };
        const note = boundNote(metric, 'modern', 'legacy');
        if (note) r.note = note;
        out.push(r);
      }
    }
    /** @type {RunLike | undefined} */
    let gatewayRun;
    for (let i = 0; i < runs.length; i++) {
      const r = /** @type {RunLike} */ (runs[i]);
      if (r.scenario === scenario && r.target === 'gateway') gatewayRun = r;
    }
    if (gateway && gatewayRun) {
      const available = [];
      if (legacy) available.push('legacy');
      if (modern) available.push('modern');
      const choice = directFor(gatewayRun, available);
      const direct = choice ? of(choice.direct) : undefined;
      if (choice && direct) {
        for (let k = 0; k < keys.length; k++) {
          const metric = /** @type {string} */ (keys[k]);
          if (metric === 'pathCpuPer1k') continue;
          const key = metric === 'cpuPer1k' ? 'pathCpuPer1k' : metric;
          /** @type {Ratio} */
          const r = {
            scenario: scenario,
            metric: key,
            numerator: 'gateway',
            denominator: choice.direct,
            basis: choice.basis,
            value: ratio(val(gateway, key), val(direct, key)),
          };
          const note = boundNote(key, 'gateway', choice.direct);
          if (note) r.note = note;
          out.push(r);
        }
      }
    }
  }
  return out;
}
