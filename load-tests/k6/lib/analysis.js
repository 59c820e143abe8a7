// What a kind run means, computed from its per-phase numbers: capacity at the SLO and the knee
// of the latency curve, soak drift and leaks, spike recovery. Shared by the Node runner and
// k6's handleSummary (through results.js), so both engines reach the same verdicts from the
// same numbers. Plain ES module, no imports, syntax k6 0.4x accepts.

/**
 * @typedef {{ p50: number, p95: number, p99: number, max: number, count: number }} PhaseLatency
 * @typedef {{ cpuCores: number | null, elu: number | null, lagP90: number | null }} PhaseGenerator
 * @typedef {{ cpuSeconds: number | null, rssAvgBytes: number | null, rssPeakBytes: number | null }} PhaseProcess
 * @typedef {{
 *   name: string, rate: number, startMs: number, endMs: number,
 *   offered: number, completed: number, dropped: number, requests: number, errors: number,
 *   errorRate: number, achievedRate: number, latency: PhaseLatency,
 *   generator: PhaseGenerator, processes: Record<string, PhaseProcess>
 * }} PhaseResult
 * @typedef {{ p99Ms: number, errorRate: number }} Slo
 * @typedef {{ generatorLagMs: number, achievedShare?: number, generatorElu?: number }} PhaseLimits
 * @typedef {{ ok: boolean, reasons: string[], generatorLimited: boolean }} PhaseVerdict
 */

/** Below this share of the offered rate completed, a step did not hold its rate. */
export const ACHIEVED_SHARE = 0.9;
/** Event-loop utilisation of the generator above which it is saturated (it is one thread). */
export const GENERATOR_ELU = 0.95;
/** A spike has recovered after this many seconds in a row within the SLO. */
export const SPIKE_HOLD_SECONDS = 3;

/**
 * @param {number} ms
 * @returns {string}
 */
function ms(ms) {
  return ms >= 1000
    ? (ms / 1000).toFixed(2) + ' s'
    : ms >= 100
      ? ms.toFixed(0) + ' ms'
      : ms.toFixed(1) + ' ms';
}

/**
 * Whether one phase held the SLO, and if not, why. Generator problems are reported as such
 * (its lag or its event loop), so a saturated load generator is not read as a slow service.
 * @param {PhaseResult} phase
 * @param {Slo} slo
 * @param {PhaseLimits} limits
 * @returns {PhaseVerdict}
 */
export function judgePhase(phase, slo, limits) {
  const reasons = [];
  let generatorLimited = false;
  const share = limits.achievedShare === undefined ? ACHIEVED_SHARE : limits.achievedShare;
  const eluLimit = limits.generatorElu === undefined ? GENERATOR_ELU : limits.generatorElu;
  if (phase.generator.lagP90 !== null && phase.generator.lagP90 > limits.generatorLagMs) {
    generatorLimited = true;
    // Late with an idle event loop: the generator was starved of CPU by other processes (on one
    // machine, possibly the target itself), not busy. Either way it did not hold the rate.
    const starved =
      phase.generator.elu !== null && phase.generator.elu <= 0.5
        ? ' (its event loop ' +
          Math.round(phase.generator.elu * 100) +
          '% busy: the CPU went to other processes)'
        : '';
    reasons.push(
      'generator late: start lag p90 ' +
        ms(phase.generator.lagP90) +
        ' > ' +
        ms(limits.generatorLagMs) +
        starved,
    );
  }
  if (phase.generator.elu !== null && phase.generator.elu > eluLimit) {
    generatorLimited = true;
    reasons.push('generator saturated: event loop ' + Math.round(phase.generator.elu * 100) + '% busy');
  }
  if (phase.latency.count === 0 && phase.offered > 0) reasons.push('no response completed');
  else if (phase.latency.p99 > slo.p99Ms)
    reasons.push('p99 ' + ms(phase.latency.p99) + ' > ' + ms(slo.p99Ms));
  if (phase.errorRate > slo.errorRate)
    reasons.push(
      'errors ' + (phase.errorRate * 100).toFixed(1) + '% > ' + (slo.errorRate * 100).toFixed(1) + '%',
    );
  if (phase.offered > 0 && phase.completed < share * phase.offered)
    reasons.push('achieved ' + phase.achievedRate.toFixed(1) + '/s of ' + phase.rate + '/s offered');
  return { ok: reasons.length === 0, reasons: reasons, generatorLimited: generatorLimited };
}

/**
 * The knee of an increasing curve (latency against offered load): the point farthest below the
 * straight line from the first point to the last, both axes scaled to [0, 1] (the idea of the
 * Kneedle algorithm). Offered rates are taken on a log scale when all are positive, because
 * capacity steps are geometric: each step then weighs the same. Null with fewer than 3 points
 * or when the curve is straight or concave (no point more than 5% of the range below the line).
 * @param {Array<[number, number]>} input [x, y], x ascending
 * @returns {number | null} index of the knee
 */
export function kneeIndex(input) {
  if (input.length < 3) return null;
  let positive = true;
  for (let i = 0; i < input.length; i++)
    if (/** @type {[number, number]} */ (input[i])[0] <= 0) positive = false;
  /** @type {Array<[number, number]>} */
  const points = [];
  for (let i = 0; i < input.length; i++) {
    const p = /** @type {[number, number]} */ (input[i]);
    points.push([positive ? Math.log(p[0]) : p[0], p[1]]);
  }
  const first = /** @type {[number, number]} */ (points[0]);
  const last = /** @type {[number, number]} */ (points[points.length - 1]);
  let yMin = Infinity;
  let yMax = -Infinity;
  for (let i = 0; i < points.length; i++) {
    const y = /** @type {[number, number]} */ (points[i])[1];
    if (y < yMin) yMin = y;
    if (y > yMax) yMax = y;
  }
  const xSpan = last[0] - first[0];
  const ySpan = yMax - yMin;
  if (xSpan <= 0 || ySpan <= 0) return null;
  let best = null;
  let bestGap = 0.05;
  for (let i = 1; i < points.length - 1; i++) {
    const p = /** @type {[number, number]} */ (points[i]);
    const x = (p[0] - first[0]) / xSpan;
    const y = (p[1] - yMin) / ySpan;
    const line = (first[1] - yMin) / ySpan + x * ((last[1] - first[1]) / ySpan);
    const gap = line - y;
    if (gap > bestGap) {
      bestGap = gap;
      best = i;
    }
  }
  return best;
}

/**
 * @typedef {{ rate: number, p50: number, p99: number, achievedRate: number, errorRate: number, ok: boolean, reasons: string[] }} CurvePoint
 * @typedef {{
 *   slo: Slo, capacityAtSlo: number | null, limitedBy: 'slo' | 'generator' | 'max-rate' | 'no-data',
 *   breach: { step: string, rate: number, reasons: string[] } | null,
 *   knee: { rate: number, p99: number } | null, curve: CurvePoint[], summary: string
 * }} CapacityVerdict
 */

/**
 * Capacity at the SLO from the steps of a capacity run: the highest offered rate of the steps
 * before the first one that broke the SLO. When the first break is the generator's, the
 * capacity is at least that (the target was not the limit); when no step broke, at least the
 * highest rate offered.
 * @param {PhaseResult[]} phases
 * @param {Slo} slo
 * @param {PhaseLimits} limits
 * @returns {CapacityVerdict}
 */
export function capacityVerdict(phases, slo, limits) {
  /** @type {CurvePoint[]} */
  const curve = [];
  /** @type {CapacityVerdict['breach']} */
  let breach = null;
  let capacity = null;
  /** @type {CapacityVerdict['limitedBy']} */
  let limitedBy = phases.length === 0 ? 'no-data' : 'max-rate';
  for (let i = 0; i < phases.length; i++) {
    const phase = /** @type {PhaseResult} */ (phases[i]);
    if (phase.offered === 0) continue;
    const verdict = judgePhase(phase, slo, limits);
    curve.push({
      rate: phase.rate,
      p50: phase.latency.p50,
      p99: phase.latency.p99,
      achievedRate: phase.achievedRate,
      errorRate: phase.errorRate,
      ok: verdict.ok,
      reasons: verdict.reasons,
    });
    if (breach) continue;
    if (verdict.ok) capacity = phase.rate;
    else {
      breach = { step: phase.name, rate: phase.rate, reasons: verdict.reasons };
      limitedBy = verdict.generatorLimited ? 'generator' : 'slo';
    }
  }
  /** @type {Array<[number, number]>} */
  const points = [];
  for (let i = 0; i < curve.length; i++) {
    const c = /** @type {CurvePoint} */ (curve[i]);
    points.push([c.rate, c.p99]);
  }
  const k = kneeIndex(points);
  const kneePoint = k === null ? null : /** @type {CurvePoint} */ (curve[k]);
  const knee = kneePoint ? { rate: kneePoint.rate, p99: kneePoint.p99 } : null;
  let summary;
  if (limitedBy === 'no-data') summary = 'no step ran';
  else if (limitedBy === 'max-rate')
    summary = 'held the SLO at every step: capacity ≥ ' + capacity + '/s (raise the steps)';
  else if (limitedBy === 'generator')
    summary =
      'the load generator, not the target, was the limit at ' +
      (breach ? breach.rate : '?') +
      '/s: capacity ≥ ' +
      (capacity === null ? 0 : capacity) +
      '/s';
  else if (capacity === null)
    summary =
      'broke the SLO at the first step (' + (breach ? breach.rate : '?') + '/s): lower the start rate';
  else
    summary =
      capacity + '/s (broke at ' + (breach ? breach.rate + '/s: ' + breach.reasons.join(', ') : '?') + ')';
  return {
    slo: slo,
    capacityAtSlo: capacity,
    limitedBy: limitedBy,
    breach: breach,
    knee: knee,
    curve: curve,
    summary: summary,
  };
}

/**
 * @typedef {{ name: string, startMb: number, endMb: number, growthMb: number, leak: boolean }} RssDrift
 * @typedef {{
 *   leakBoundMb: number, maxP99Drift: number, rss: RssDrift[], p99First: number, p99Last: number,
 *   p99Drift: number | null, leak: boolean, drifted: boolean, summary: string
 * }} SoakVerdict
 */

/**
 * Soak verdict from its windows: each process's RSS (average over a window) at the end against
 * the start, and p99 of the last window against the first. A leak is a growth beyond the
 * stated bound; the first window is the baseline, so warm-up allocations count as growth only
 * if they keep going.
 * @param {PhaseResult[]} windows
 * @param {{ leakBoundMb: number, maxP99Drift: number }} plan
 * @returns {SoakVerdict}
 */
export function soakVerdict(windows, plan) {
  const MB = 1024 * 1024;
  /** @type {RssDrift[]} */
  const rss = [];
  const first = windows[0];
  const last = windows[windows.length - 1];
  if (first && last) {
    const names = Object.keys(first.processes);
    for (let i = 0; i < names.length; i++) {
      const name = /** @type {string} */ (names[i]);
      const a = first.processes[name];
      const b = last.processes[name];
      if (!a || !b || a.rssAvgBytes === null || b.rssAvgBytes === null) continue;
      const growth = (b.rssAvgBytes - a.rssAvgBytes) / MB;
      rss.push({
        name: name,
        startMb: round1(a.rssAvgBytes / MB),
        endMb: round1(b.rssAvgBytes / MB),
        growthMb: round1(growth),
        leak: growth > plan.leakBoundMb,
      });
    }
  }
  const p99First = first ? first.latency.p99 : 0;
  const p99Last = last ? last.latency.p99 : 0;
  const drift = p99First > 0 ? Math.round((p99Last / p99First) * 100) / 100 : null;
  let leak = false;
  for (let i = 0; i < rss.length; i++) if (/** @type {RssDrift} */ (rss[i]).leak) leak = true;
  const drifted = drift !== null && drift > plan.maxP99Drift;
  const parts = [];
  for (let i = 0; i < rss.length; i++) {
    const r = /** @type {RssDrift} */ (rss[i]);
    parts.push(
      r.name +
        ' RSS ' +
        r.startMb +
        ' → ' +
        r.endMb +
        ' MB (' +
        (r.growthMb >= 0 ? '+' : '') +
        r.growthMb +
        ')',
    );
  }
  const summary =
    (leak
      ? 'LEAK: RSS grew beyond ' + plan.leakBoundMb + ' MB; '
      : 'no leak (bound ' + plan.leakBoundMb + ' MB); ') +
    (parts.length ? parts.join(', ') + '; ' : 'RSS not measured; ') +
    'p99 ' +
    ms(p99First) +
    ' → ' +
    ms(p99Last) +
    (drift === null ? '' : ' (×' + drift + (drifted ? ', over ×' + plan.maxP99Drift : '') + ')');
  return {
    leakBoundMb: plan.leakBoundMb,
    maxP99Drift: plan.maxP99Drift,
    rss: rss,
    p99First: p99First,
    p99Last: p99Last,
    p99Drift: drift,
    leak: leak,
    drifted: drifted,
    summary: summary,
  };
}

/**
 * @typedef {{ second: number, seconds?: number, offered: number, completed: number, requests: number, errors: number, p50: number, p99: number }} TimelinePoint
 * @typedef {{
 *   baseRate: number, spikeRate: number, spikeErrors: number, spikeErrorRate: number, spikeP99: number,
 *   recoverySeconds: number | null, recoveredAt: number | null, summary: string
 * }} SpikeVerdict
 */

/**
 * Spike verdict: errors and p99 while the spike lasted, and the recovery time: seconds from the
 * end of the spike to the first of `holdSeconds` seconds in a row that each had no errors and a
 * p99 within the SLO, and that together completed at least 90% of the iterations offered.
 * @param {PhaseResult[]} phases before, spike, after
 * @param {TimelinePoint[]} timeline per-second buckets from the start of the run
 * @param {Slo} slo
 * @param {number} holdSeconds
 * @returns {SpikeVerdict}
 */
export function spikeVerdict(phases, timeline, slo, holdSeconds) {
  const before = phases[0];
  const spike = phases[1];
  const spikeEndS = spike ? Math.round(spike.endMs / 1000) : 0;
  let recoveredAt = null;
  // Each second of the window within the SLO, and the window as a whole keeping up with what
  // was offered (one second alone is too short: completions spill into the next).
  for (let i = 0; i < timeline.length; i++) {
    const t = /** @type {TimelinePoint} */ (timeline[i]);
    if (t.second < spikeEndS) continue;
    let ok = true;
    let offered = 0;
    let completed = 0;
    for (let j = 0; j < holdSeconds; j++) {
      const u = timeline[i + j];
      if (!u || u.errors > 0 || u.p99 > slo.p99Ms) {
        ok = false;
        break;
      }
      offered += u.offered;
      completed += u.completed;
    }
    if (ok && completed >= ACHIEVED_SHARE * offered) {
      recoveredAt = t.second;
      break;
    }
  }
  const recovery = recoveredAt === null ? null : recoveredAt - spikeEndS;
  const spikeErrors = spike ? spike.errors : 0;
  const spikeErrorRate = spike ? spike.errorRate : 0;
  const spikeP99 = spike ? spike.latency.p99 : 0;
  const summary =
    'spike ' +
    (before ? before.rate : '?') +
    ' → ' +
    (spike ? spike.rate : '?') +
    '/s: ' +
    spikeErrors +
    ' errors (' +
    (spikeErrorRate * 100).toFixed(1) +
    '%), p99 ' +
    ms(spikeP99) +
    '; ' +
    (recovery === null
      ? 'did not recover within the run'
      : 'recovered ' + recovery + ' s after the spike (' + holdSeconds + ' s in a row within the SLO)');
  return {
    baseRate: before ? before.rate : 0,
    spikeRate: spike ? spike.rate : 0,
    spikeErrors: spikeErrors,
    spikeErrorRate: spikeErrorRate,
    spikeP99: spikeP99,
    recoverySeconds: recovery,
    recoveredAt: recoveredAt,
    summary: summary,
  };
}

/**
 * @param {number} value
 * @returns {number}
 */
function round1(value) {
  return Math.round(value * 10) / 10;
}
