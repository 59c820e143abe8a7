// A small local replacement for jslib's textSummary (no remote imports: machines may be
// offline). Pure: no k6 imports, runs on k6 0.4x and 1.x alike.

/**
 * @typedef {{ type: string, contains?: string, values: Record<string, number>, thresholds?: Record<string, { ok: boolean }> }} SummaryMetric
 * @typedef {{ metrics: Record<string, SummaryMetric>, state?: { testRunDurationMs?: number } }} SummaryData
 */

/**
 * @param {number | undefined} value
 * @returns {string}
 */
function ms(value) {
  if (value === undefined || value === null || Number.isNaN(value)) return '-';
  return value >= 1000 ? (value / 1000).toFixed(2) + 's' : value.toFixed(1) + 'ms';
}

/**
 * @param {string} text
 * @param {number} width
 * @returns {string}
 */
function pad(text, width) {
  let out = text;
  while (out.length < width) out += ' ';
  return out;
}

/**
 * One line per catalogue scenario (latency percentiles, error rate, threshold verdicts),
 * followed by the overall request count.
 * @param {SummaryData} data
 * @param {{ target: string, order: string[] }} info
 * @returns {string}
 */
export function textSummary(data, info) {
  const lines = [];
  lines.push('');
  lines.push('pilot load test — target ' + info.target);
  lines.push(
    pad('scenario', 28) +
      pad('requests', 10) +
      pad('p50', 10) +
      pad('p95', 10) +
      pad('p99', 10) +
      pad('errors', 10) +
      'thresholds',
  );
  for (let i = 0; i < info.order.length; i++) {
    const name = /** @type {string} */ (info.order[i]);
    const latency = data.metrics['pilot_latency{scenario:' + name + '}'];
    const errors = data.metrics['pilot_errors{scenario:' + name + '}'];
    const verdicts = [];
    const both = [latency, errors];
    for (let j = 0; j < both.length; j++) {
      const metric = both[j];
      const thresholds = metric ? metric.thresholds : undefined;
      if (!thresholds) continue;
      const keys = Object.keys(thresholds);
      for (let k = 0; k < keys.length; k++) {
        const key = /** @type {string} */ (keys[k]);
        const entry = thresholds[key];
        const ok = entry ? entry.ok : false;
        // Always-true thresholds only keep a sub-metric in the summary (core.js): not a verdict.
        if (/^(max|rate|count)>=0$/.test(key)) continue;
        verdicts.push((ok ? '✓ ' : '✗ ') + key);
      }
    }
    const total = errors ? (errors.values.passes || 0) + (errors.values.fails || 0) : 0;
    const errorText = errors
      ? (errors.values.passes || 0) + ' (' + ((errors.values.rate || 0) * 100).toFixed(2) + '%)'
      : '-';
    lines.push(
      pad(name, 28) +
        pad(String(total), 10) +
        pad(latency ? ms(latency.values.med) : '-', 10) +
        pad(latency ? ms(latency.values['p(95)']) : '-', 10) +
        pad(latency ? ms(latency.values['p(99)']) : '-', 10) +
        pad(errorText, 10) +
        (verdicts.length
          ? verdicts.join('  ')
          : 'kept for the report (no pass/fail: see the capacity or spike analysis)'),
    );
  }
  const reqs = data.metrics.http_reqs;
  if (reqs)
    lines.push('http requests: ' + reqs.values.count + ' (' + (reqs.values.rate || 0).toFixed(1) + '/s)');
  const dropped = data.metrics.dropped_iterations;
  if (dropped)
    lines.push(
      'dropped iterations (the server could not keep up with the arrival rate): ' + dropped.values.count,
    );
  lines.push('');
  return lines.join('\n');
}
