// A self-contained HTML report: inline CSS and inline SVG charts, no script or font from
// anywhere else, so it can be attached to a migration review and opened offline.
import type { Target } from './catalogue.ts';
import { failedThresholds, formatMs } from './format.ts';
import type { CompareReport } from './report.ts';
import type { RunResult } from './runner.ts';

const COLORS: Record<Target, string> = { legacy: '#c0392b', modern: '#1e8449', gateway: '#2471a3' };

export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

interface Series {
  name: string;
  color: string;
  points: Array<[number, number]>;
}

function niceMax(value: number): number {
  if (value <= 0) return 1;
  const exp = 10 ** Math.floor(Math.log10(value));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * exp >= value) return m * exp;
  return 10 * exp;
}

function fmtTick(value: number): string {
  if (value >= 1000) return `${+(value / 1000).toFixed(1)}k`;
  return `${+value.toFixed(value < 10 ? 1 : 0)}`;
}

/** A line chart; x ticks given as [x, label]. */
export function lineChart(options: {
  title: string;
  series: Series[];
  yLabel: string;
  xTicks: Array<[number, string]>;
  xMin: number;
  xMax: number;
}): string {
  const w = 460;
  const h = 230;
  const m = { l: 52, r: 12, t: 40, b: 34 };
  const yMax = niceMax(Math.max(0, ...options.series.flatMap((s) => s.points.map((p) => p[1]))));
  const xSpan = options.xMax - options.xMin || 1;
  const sx = (x: number) => m.l + ((x - options.xMin) / xSpan) * (w - m.l - m.r);
  const sy = (y: number) => h - m.b - (y / yMax) * (h - m.t - m.b);
  const parts: string[] = [];
  parts.push(`<text x="${m.l}" y="16" class="ct">${escapeHtml(options.title)}</text>`);
  for (let i = 0; i <= 4; i++) {
    const y = (yMax / 4) * i;
    parts.push(`<line x1="${m.l}" x2="${w - m.r}" y1="${sy(y)}" y2="${sy(y)}" class="grid"/>`);
    parts.push(`<text x="${m.l - 6}" y="${sy(y) + 4}" class="yt">${fmtTick(y)}</text>`);
  }
  for (const [x, label] of options.xTicks) {
    parts.push(`<text x="${sx(x)}" y="${h - m.b + 14}" class="xt">${escapeHtml(label)}</text>`);
  }
  parts.push(
    `<text x="12" y="${(h - m.b + m.t) / 2}" class="yl" transform="rotate(-90 12 ${(h - m.b + m.t) / 2})">${escapeHtml(options.yLabel)}</text>`,
  );
  options.series.forEach((s, i) => {
    if (s.points.length === 0) return;
    const d = s.points
      .map(([x, y], j) => `${j === 0 ? 'M' : 'L'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`)
      .join(' ');
    parts.push(
      `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"><title>${escapeHtml(s.name)}</title></path>`,
    );
    for (const [x, y] of s.points) {
      parts.push(
        `<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="2.5" fill="${s.color}"><title>${escapeHtml(s.name)}: ${fmtTick(y)}</title></circle>`,
      );
    }
    const lx = m.l + i * 70;
    parts.push(`<rect x="${lx}" y="23" width="9" height="9" fill="${s.color}"/>`);
    parts.push(`<text x="${lx + 13}" y="31" class="lg">${escapeHtml(s.name)}</text>`);
  });
  return `<svg viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img">${parts.join('')}</svg>`;
}

/** Horizontal bars: p50 and p99 per target for one scenario. */
export function latencyBars(title: string, runs: RunResult[]): string {
  const w = 460;
  const rowH = 34;
  const m = { l: 70, r: 70, t: 26, b: 8 };
  const h = m.t + m.b + runs.length * rowH;
  const max = niceMax(Math.max(0, ...runs.map((r) => r.latency.p99)));
  const sx = (v: number) => (v / max) * (w - m.l - m.r);
  const parts = [`<text x="${m.l}" y="16" class="ct">${escapeHtml(title)}</text>`];
  runs.forEach((run, i) => {
    const y = m.t + i * rowH;
    const color = COLORS[run.target];
    parts.push(`<text x="${m.l - 6}" y="${y + 17}" class="yt">${run.target}</text>`);
    parts.push(
      `<rect x="${m.l}" y="${y + 2}" width="${sx(run.latency.p99).toFixed(1)}" height="13" fill="${color}" opacity="0.45"><title>p99 ${formatMs(run.latency.p99)}</title></rect>`,
    );
    parts.push(
      `<rect x="${m.l}" y="${y + 16}" width="${sx(run.latency.p50).toFixed(1)}" height="13" fill="${color}"><title>p50 ${formatMs(run.latency.p50)}</title></rect>`,
    );
    parts.push(
      `<text x="${m.l + sx(run.latency.p99) + 4}" y="${y + 13}" class="lg">p99 ${formatMs(run.latency.p99)}</text>`,
    );
    parts.push(
      `<text x="${m.l + sx(run.latency.p50) + 4}" y="${y + 27}" class="lg">p50 ${formatMs(run.latency.p50)}</text>`,
    );
  });
  return `<svg viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img">${parts.join('')}</svg>`;
}

/** Position of a percentile on a "nines" axis: 0 → 0, 90 → 1, 99 → 2, 99.9 → 3 ... */
export function ninesX(p: number): number {
  return Math.max(0, -Math.log10(Math.max(1e-5, 1 - Math.min(p, 99.999) / 100)));
}

function scenarioSection(scenario: string, runs: RunResult[]): string {
  const route = runs[0]?.route ?? '';
  const curve = lineChart({
    title: 'latency by percentile (ms)',
    yLabel: 'ms',
    series: runs.map((r) => ({
      name: r.target,
      color: COLORS[r.target],
      points: r.curve.map(([p, ms]) => [ninesX(p), ms]),
    })),
    xTicks: [0, 50, 90, 99, 99.9, 99.99].map((p) => [ninesX(p), `p${p}`]),
    xMin: 0,
    xMax: ninesX(99.999),
  });
  const maxSecond = Math.max(1, ...runs.map((r) => r.timeline.length - 1));
  const ticks: Array<[number, string]> = [];
  for (let s = 0; s <= maxSecond; s += Math.max(1, Math.ceil(maxSecond / 6))) ticks.push([s, `${s}s`]);
  const throughput = lineChart({
    title: 'completed requests per second',
    yLabel: 'req/s',
    series: runs.map((r) => ({
      name: r.target,
      color: COLORS[r.target],
      points: r.timeline.map((t) => [t.second, t.requests]),
    })),
    xTicks: ticks,
    xMin: 0,
    xMax: maxSecond,
  });
  const p99 = lineChart({
    title: 'p99 latency per second (ms)',
    yLabel: 'ms',
    series: runs.map((r) => ({
      name: r.target,
      color: COLORS[r.target],
      points: r.timeline.map((t) => [t.second, t.p99]),
    })),
    xTicks: ticks,
    xMin: 0,
    xMax: maxSecond,
  });
  const details = runs
    .map((r) => {
      const codes = Object.entries(r.statusCodes)
        .map(([code, n]) => `${code}×${n}`)
        .join(', ');
      const steps = Object.entries(r.steps)
        .map(
          ([name, s]) =>
            `${escapeHtml(name)}: ${s.requests} req, p50 ${formatMs(s.latency.p50)}, p99 ${formatMs(s.latency.p99)}, ${s.errors} err`,
        )
        .join('<br>');
      const errors = r.errorSamples.map((e) => `<code>${escapeHtml(e)}</code>`).join('<br>');
      return `<tr><td>${r.target}</td><td>${r.iterations.offered}/${r.iterations.completed}/${r.iterations.dropped}/${r.iterations.interrupted}</td><td>${escapeHtml(codes || '-')}</td><td>${steps}</td><td>${formatMs(r.generatorLag.p99)}</td><td>${errors || '-'}</td></tr>`;
    })
    .join('');
  return `<section><h2>${escapeHtml(scenario)} <small>${escapeHtml(route)}</small></h2>
<div class="charts">${latencyBars('p50 (solid) and p99 (light)', runs)}${curve}${throughput}${p99}</div>
<table class="small"><tr><th>target</th><th>iterations offered/completed/dropped/interrupted</th><th>status codes</th><th>steps</th><th>generator lag p99</th><th>error samples</th></tr>${details}</table>
</section>`;
}

export function renderHtml(report: CompareReport): string {
  const scenarios = [...new Set(report.runs.map((r) => r.scenario))];
  const resultRows = report.runs
    .map((r) => {
      const failed = failedThresholds(r);
      return `<tr><td class="t">${escapeHtml(r.scenario)}</td><td class="t"><span class="dot" style="background:${COLORS[r.target]}"></span>${r.target}</td><td class="n">${r.throughput.toFixed(1)}</td><td class="n">${formatMs(r.latency.p50)}</td><td class="n">${formatMs(r.latency.p95)}</td><td class="n">${formatMs(r.latency.p99)}</td><td class="n">${r.errors}${r.errors ? ` (${(r.errorRate * 100).toFixed(1)}%)` : ''}</td><td class="n">${r.upstreamCalls ?? '-'}</td><td class="${failed.length ? 'bad' : 'ok'}">${failed.length ? `FAIL ${failed.join(', ')}` : 'pass'} <small>(p95&lt;${r.thresholds.p95.limit}, p99&lt;${r.thresholds.p99.limit} ms, errors≤${r.thresholds.errorRate.limit * 100}%)</small></td></tr>`;
    })
    .join('');
  const ratio = (v: number | null | undefined) => (v === null || v === undefined ? '-' : `${v.toFixed(2)}×`);
  const ratioRows = report.ratios
    .map(
      (r) =>
        `<tr><td>${escapeHtml(r.scenario)}</td><td class="n">${ratio(r.modernVsLegacy?.throughput)}</td><td class="n">${ratio(r.modernVsLegacy?.p50)}</td><td class="n">${ratio(r.modernVsLegacy?.p99)}</td><td>${r.gatewayVsDirect ? `gateway/${r.gatewayVsDirect.direct} <small>(${escapeHtml(r.gatewayVsDirect.basis)})</small>` : '-'}</td><td class="n">${ratio(r.gatewayVsDirect?.throughput)}</td><td class="n">${ratio(r.gatewayVsDirect?.p50)}</td><td class="n">${ratio(r.gatewayVsDirect?.p99)}</td></tr>`,
    )
    .join('');
  const notes = report.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('');
  const targets = Object.entries(report.targets)
    .map(([t, u]) => `${t} = <code>${escapeHtml(u ?? '')}</code>`)
    .join(', ');
  const sections = scenarios
    .map((s) =>
      scenarioSection(
        s,
        report.runs.filter((r) => r.scenario === s),
      ),
    )
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>pilot compare ${escapeHtml(report.startedAt)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:24px;color:#222;max-width:1900px}
h1{font-size:20px;margin:0 0 4px} h2{font-size:16px;margin:28px 0 6px} h2 small{color:#666;font-weight:normal}
table{border-collapse:collapse;margin:8px 0} td,th{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f4f6f8} td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap} td.t{white-space:nowrap} .ok{color:#1e8449} .bad{color:#c0392b;font-weight:600}
table.small{font-size:12px} code{font-size:12px} .meta{color:#555}
.dot{display:inline-block;width:9px;height:9px;border-radius:50%;margin-right:6px}
.charts{display:flex;flex-wrap:wrap;gap:12px} svg{background:#fcfcfc;border:1px solid #eee}
.grid{stroke:#e5e5e5} .ct{font-size:12px;font-weight:600} .xt{font-size:10px;text-anchor:middle;fill:#555}
.yt{font-size:10px;text-anchor:end;fill:#555} .yl{font-size:10px;text-anchor:middle;fill:#555} .lg{font-size:10px;fill:#333}
</style></head><body>
<h1>Migration load comparison (${report.mode})</h1>
<p class="meta">${escapeHtml(report.startedAt)} → ${escapeHtml(report.finishedAt)} · Node ${escapeHtml(report.machine.node)} on ${report.machine.cpus} CPUs (${escapeHtml(report.machine.platform)}) · targets: ${targets} (${escapeHtml(report.stackSource)}) · catalogue sha256 <code>${report.catalogue.sha256.slice(0, 12)}</code> · upstream calls from <code>${escapeHtml(report.upstreamMetric)}</code></p>
<h2>Results</h2>
<table><tr><th>scenario</th><th>target</th><th>req/s</th><th>p50</th><th>p95</th><th>p99</th><th>errors</th><th>upstream calls</th><th>thresholds</th></tr>${resultRows}</table>
<h2>Ratios</h2>
<p class="meta">req/s ratio &gt; 1 means more throughput; p50/p99 ratio &lt; 1 means faster. gateway/direct compares the gateway with the backend it routed to.</p>
<table><tr><th>scenario</th><th>modern/legacy req/s</th><th>p50</th><th>p99</th><th>gateway vs</th><th>req/s</th><th>p50</th><th>p99</th></tr>${ratioRows}</table>
${notes ? `<h2>Notes</h2><ul>${notes}</ul>` : ''}
<h2>How to read this</h2>
<ul>
<li>Load is open-model: iterations start on a fixed schedule (arrival rate) whatever the server does, and latency is measured from each iteration's scheduled start, so a stalling server shows up as latency instead of hiding (no coordinated omission).</li>
<li>req/s is what completed, not what was offered; if it is below the catalogue rate, or "dropped" is non-zero, the target could not keep up.</li>
<li>"generator lag" is how late the load generator itself started iterations; when it is large the numbers describe the load machine, not the service.</li>
<li>upstream calls are the increase of the services' Strapi request counter during the run: fewer means the cache and request coalescing did their job.</li>
</ul>
${sections}
</body></html>
`;
}
