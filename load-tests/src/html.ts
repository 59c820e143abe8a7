// A self-contained HTML report: inline CSS and inline SVG charts, no script or font from
// anywhere else, so it can be attached to a migration review and opened offline. It renders
// any results.json (schema pilot-load-results/2): a Node compare run or a k6 run.
import type { Target } from './catalogue.ts';
import { failedThresholds, formatBytes, formatMs, formatNumber } from './format.ts';
import type { CompareReport, Ratio, RunResult } from './model.ts';
import { METRICS, ratioRows } from './summary.ts';

const COLORS: Record<Target, string> = { legacy: '#c0392b', modern: '#1e8449', gateway: '#2471a3' };
const PROCESS_COLORS: Record<string, string> = {
  legacy: '#c0392b',
  modern: '#1e8449',
  gateway: '#2471a3',
  cms: '#8e44ad',
};

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
  dashed?: boolean;
}

interface Mark {
  x: number;
  y: number;
  label: string;
  color: string;
  shape: 'ring' | 'cross';
  /** Write the label beside the mark (else it is the mark's tooltip only). */
  caption?: boolean;
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

/** Evenly spaced ticks over [min, max] (about six). */
function ticks(min: number, max: number, unit = ''): Array<[number, string]> {
  const span = max - min || 1;
  const step = niceMax(span / 6);
  const out: Array<[number, string]> = [];
  for (let x = Math.ceil(min / step) * step; x <= max + 1e-9; x += step)
    out.push([x, `${fmtTick(x)}${unit}`]);
  return out;
}

/** A line chart; x ticks given as [x, label]; optional horizontal lines, shaded bands and marks. */
export function lineChart(options: {
  title: string;
  series: Series[];
  yLabel: string;
  xTicks: Array<[number, string]>;
  xMin: number;
  xMax: number;
  hLines?: Array<{ y: number; label: string }>;
  bands?: Array<{ x0: number; x1: number; label: string }>;
  marks?: Mark[];
  /** Logarithmic x axis (capacity steps are geometric); xMin must be > 0. */
  xLog?: boolean;
}): string {
  const w = 460;
  const legendRows = Math.ceil(options.series.length / 4);
  const h = 230 + (legendRows - 1) * 12;
  const m = { l: 52, r: 12, t: 26 + legendRows * 12, b: 34 };
  const yTop = Math.max(
    0,
    ...options.series.flatMap((s) => s.points.map((p) => p[1])),
    ...(options.hLines ?? []).map((l) => l.y),
  );
  const yMax = niceMax(yTop);
  const fx = (x: number) => (options.xLog ? Math.log10(Math.max(x, 1e-9)) : x);
  const xSpan = fx(options.xMax) - fx(options.xMin) || 1;
  const sx = (x: number) => m.l + ((fx(x) - fx(options.xMin)) / xSpan) * (w - m.l - m.r);
  const sy = (y: number) => h - m.b - (Math.min(y, yMax) / yMax) * (h - m.t - m.b);
  const parts: string[] = [];
  parts.push(`<text x="${m.l}" y="14" class="ct">${escapeHtml(options.title)}</text>`);
  for (const band of options.bands ?? []) {
    parts.push(
      `<rect x="${sx(band.x0).toFixed(1)}" y="${m.t}" width="${Math.max(1, sx(band.x1) - sx(band.x0)).toFixed(1)}" height="${h - m.t - m.b}" class="band"><title>${escapeHtml(band.label)}</title></rect>`,
    );
    parts.push(
      `<text x="${(sx(band.x0) + 3).toFixed(1)}" y="${m.t + 10}" class="lg">${escapeHtml(band.label)}</text>`,
    );
  }
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
  for (const line of options.hLines ?? []) {
    parts.push(
      `<line x1="${m.l}" x2="${w - m.r}" y1="${sy(line.y).toFixed(1)}" y2="${sy(line.y).toFixed(1)}" class="slo"/>`,
    );
    parts.push(
      `<text x="${w - m.r - 2}" y="${(sy(line.y) - 3).toFixed(1)}" class="sl">${escapeHtml(line.label)}</text>`,
    );
  }
  options.series.forEach((s, i) => {
    const lx = m.l + (i % 4) * 100;
    const ly = 27 + Math.floor(i / 4) * 12;
    parts.push(
      `<line x1="${lx}" x2="${lx + 12}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="4 3"' : ''}/>`,
    );
    parts.push(`<text x="${lx + 15}" y="${ly + 3}" class="lg">${escapeHtml(s.name)}</text>`);
    if (s.points.length === 0) return;
    const d = s.points
      .map(([x, y], j) => `${j === 0 ? 'M' : 'L'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`)
      .join(' ');
    parts.push(
      `<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="4 3"' : ''}><title>${escapeHtml(s.name)}</title></path>`,
    );
    if (s.points.length <= 60) {
      for (const [x, y] of s.points) {
        parts.push(
          `<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="2.2" fill="${s.color}"><title>${escapeHtml(s.name)}: ${fmtTick(x)} → ${fmtTick(y)}</title></circle>`,
        );
      }
    }
  });
  for (const mark of options.marks ?? []) {
    const x = sx(mark.x).toFixed(1);
    const y = sy(mark.y).toFixed(1);
    if (mark.shape === 'ring') {
      parts.push(
        `<circle cx="${x}" cy="${y}" r="6" fill="none" stroke="${mark.color}" stroke-width="2" class="knee"><title>${escapeHtml(mark.label)}</title></circle>`,
      );
    } else {
      parts.push(
        `<path d="M${+x - 5},${+y - 5} L${+x + 5},${+y + 5} M${+x - 5},${+y + 5} L${+x + 5},${+y - 5}" stroke="${mark.color}" stroke-width="2.5"><title>${escapeHtml(mark.label)}</title></path>`,
      );
    }
    if (mark.caption)
      parts.push(`<text x="${+x + 8}" y="${+y - 6}" class="lg">${escapeHtml(mark.label)}</text>`);
  }
  return `<svg viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img">${parts.join('')}</svg>`;
}

/** Horizontal bars, one row per label, each with up to two values (solid and light). */
function barChart(
  title: string,
  rows: Array<{
    label: string;
    color: string;
    value: number;
    text: string;
    light?: { value: number; text: string };
  }>,
): string {
  const w = 460;
  const rowH = 34;
  const m = { l: 100, r: 90, t: 26, b: 8 };
  const h = m.t + m.b + Math.max(1, rows.length) * rowH;
  const max = niceMax(Math.max(0, ...rows.flatMap((r) => [r.value, r.light?.value ?? 0])));
  const sx = (v: number) => (v / max) * (w - m.l - m.r);
  const parts = [`<text x="${m.l}" y="16" class="ct">${escapeHtml(title)}</text>`];
  rows.forEach((row, i) => {
    const y = m.t + i * rowH;
    parts.push(`<text x="${m.l - 6}" y="${y + 17}" class="yt">${escapeHtml(row.label)}</text>`);
    if (row.light) {
      parts.push(
        `<rect x="${m.l}" y="${y + 2}" width="${sx(row.light.value).toFixed(1)}" height="13" fill="${row.color}" opacity="0.45"><title>${escapeHtml(row.light.text)}</title></rect>`,
      );
      parts.push(
        `<text x="${m.l + sx(row.light.value) + 4}" y="${y + 13}" class="lg">${escapeHtml(row.light.text)}</text>`,
      );
    }
    const top = row.light ? y + 16 : y + 8;
    parts.push(
      `<rect x="${m.l}" y="${top}" width="${sx(row.value).toFixed(1)}" height="13" fill="${row.color}"><title>${escapeHtml(row.text)}</title></rect>`,
    );
    parts.push(
      `<text x="${m.l + sx(row.value) + 4}" y="${top + 11}" class="lg">${escapeHtml(row.text)}</text>`,
    );
  });
  return `<svg viewBox="0 0 ${w} ${h}" width="${w}" height="${h}" role="img">${parts.join('')}</svg>`;
}

/** Horizontal bars: p50 and p99 per target for one scenario. */
export function latencyBars(title: string, runs: RunResult[]): string {
  return barChart(
    title,
    runs.map((run) => ({
      label: run.round > 1 ? `${run.target} r${run.round}` : run.target,
      color: COLORS[run.target],
      value: run.latency.p50,
      text: `p50 ${formatMs(run.latency.p50)}`,
      light: { value: run.latency.p99, text: `p99 ${formatMs(run.latency.p99)}` },
    })),
  );
}

/** Position of a percentile on a "nines" axis: 0 → 0, 90 → 1, 99 → 2, 99.9 → 3 ... */
export function ninesX(p: number): number {
  return Math.max(0, -Math.log10(Math.max(1e-5, 1 - Math.min(p, 99.999) / 100)));
}

const label = (run: RunResult) => (run.round > 1 ? `${run.target} r${run.round}` : run.target);

function timelineCharts(runs: RunResult[]): string[] {
  const maxSecond = Math.max(1, ...runs.flatMap((r) => r.timeline.map((t) => t.second + t.seconds)));
  const xTicks = ticks(0, maxSecond, 's');
  const phaseBands = (() => {
    const spike = runs.find((r) => r.spike)?.phases?.find((p) => p.name === 'spike');
    return spike ? [{ x0: spike.startMs / 1000, x1: spike.endMs / 1000, label: 'spike' }] : [];
  })();
  const mid = (t: { second: number; seconds: number }) => t.second + t.seconds / 2;
  const offered = lineChart({
    title: 'offered vs achieved (iterations per second)',
    yLabel: 'it/s',
    series: runs.flatMap((r) => [
      {
        name: `${label(r)} offered`,
        color: COLORS[r.target],
        dashed: true,
        points: r.timeline.map((t) => [mid(t), t.offered / t.seconds] as [number, number]),
      },
      {
        name: `${label(r)} achieved`,
        color: COLORS[r.target],
        points: r.timeline.map((t) => [mid(t), t.completed / t.seconds] as [number, number]),
      },
    ]),
    xTicks,
    xMin: 0,
    xMax: maxSecond,
    bands: phaseBands,
  });
  const errors = lineChart({
    title: 'errors per second (failed requests + dropped arrivals)',
    yLabel: 'errors/s',
    series: runs.map((r) => ({
      name: label(r),
      color: COLORS[r.target],
      points: r.timeline.map((t) => [mid(t), (t.errors + (t.dropped ?? 0)) / t.seconds] as [number, number]),
    })),
    xTicks,
    xMin: 0,
    xMax: maxSecond,
    bands: phaseBands,
  });
  const marks: Mark[] = runs.flatMap((r) =>
    r.spike && r.spike.recoveredAt !== null
      ? [
          {
            x: r.spike.recoveredAt,
            y: r.timeline.find((t) => t.second === r.spike!.recoveredAt)?.p99 ?? 0,
            label: `${label(r)} recovered +${r.spike.recoverySeconds} s`,
            color: COLORS[r.target],
            shape: 'ring' as const,
            caption: true,
          },
        ]
      : [],
  );
  const p99 = lineChart({
    title: 'p99 latency per second (ms)',
    yLabel: 'ms',
    series: runs
      .filter((r) => r.timeline.some((t) => t.requests > 0 && !r.unverifiable))
      .map((r) => ({
        name: label(r),
        color: COLORS[r.target],
        points: r.timeline.filter((t) => t.requests > 0).map((t) => [mid(t), t.p99] as [number, number]),
      })),
    xTicks,
    xMin: 0,
    xMax: maxSecond,
    hLines: [
      { y: runs[0]!.thresholds.p99.limit, label: `p99 limit ${formatMs(runs[0]!.thresholds.p99.limit)}` },
    ],
    bands: phaseBands,
    marks,
  });
  return [offered, errors, p99];
}

/** Latency against offered load per target, the SLO line, each knee (ring) and first break (cross). */
export function capacityChart(runs: RunResult[]): string {
  const withCurve = runs.filter((r) => r.capacity && r.capacity.curve.length > 0);
  const rates = [...new Set(withCurve.flatMap((r) => r.capacity!.curve.map((c) => c.rate)))].sort(
    (a, b) => a - b,
  );
  const xMin = Math.max(0.1, (rates[0] ?? 1) / 1.25);
  const xMax = Math.max(xMin * 2, (rates.at(-1) ?? 1) * 1.15);
  const slo = withCurve[0]?.capacity?.slo.p99Ms ?? 0;
  const marks: Mark[] = [];
  for (const r of withCurve) {
    const c = r.capacity!;
    if (c.knee)
      marks.push({
        x: c.knee.rate,
        y: c.knee.p99,
        label: `knee ${label(r)}`,
        color: COLORS[r.target],
        shape: 'ring',
      });
    const broke = c.curve.find((p) => c.breach && p.rate === c.breach.rate);
    if (broke)
      marks.push({
        x: broke.rate,
        y: broke.p99,
        label: `${label(r)}: ${c.limitedBy === 'generator' ? 'generator limit' : 'SLO broken'} at ${broke.rate}/s`,
        color: COLORS[r.target],
        shape: 'cross',
      });
  }
  return lineChart({
    title: 'capacity curve: latency against offered load',
    yLabel: 'ms · ring: knee · cross: first break',
    series: withCurve.flatMap((r) => [
      {
        name: `${label(r)} p99`,
        color: COLORS[r.target],
        points: r.capacity!.curve.map((c) => [c.rate, c.p99] as [number, number]),
      },
      {
        name: `${label(r)} p50`,
        color: COLORS[r.target],
        dashed: true,
        points: r.capacity!.curve.map((c) => [c.rate, c.p50] as [number, number]),
      },
    ]),
    xTicks: rates.map((r) => [r, `${fmtTick(r)}/s`] as [number, string]),
    xMin,
    xMax,
    xLog: true,
    hLines: slo ? [{ y: slo, label: `SLO p99 ${formatMs(slo)}` }] : [],
    marks,
  });
}

/** Achieved against offered rate per step: where the line leaves the diagonal, the target fell behind. */
function achievedChart(runs: RunResult[]): string {
  const withCurve = runs.filter((r) => r.capacity && r.capacity.curve.length > 0);
  const xMax = Math.max(1, ...withCurve.flatMap((r) => r.capacity!.curve.map((c) => c.rate)));
  return lineChart({
    title: 'achieved against offered rate per step (it/s)',
    yLabel: 'achieved it/s',
    series: [
      {
        name: 'offered',
        color: '#999',
        dashed: true,
        points: [
          [0, 0],
          [xMax, xMax],
        ],
      },
      ...withCurve.map((r) => ({
        name: label(r),
        color: COLORS[r.target],
        points: r.capacity!.curve.map((c) => [c.rate, c.achievedRate] as [number, number]),
      })),
    ],
    xTicks: ticks(0, xMax, '/s'),
    xMin: 0,
    xMax,
  });
}

/** CPU-seconds per 1,000 requests of each process on the run's path, and peak RSS per process. */
function costCharts(runs: RunResult[]): string[] {
  const measured = runs.filter((r) => r.cost?.processes.some((p) => p.cpuPer1k !== null));
  if (measured.length === 0) return [];
  const cpuRows = measured.flatMap((r) =>
    r
      .cost!.processes.filter((p) => p.cpuPer1k !== null && r.cost!.pathProcesses.includes(p.name))
      .map((p) => ({
        label: `${label(r)}: ${p.name}`,
        color: PROCESS_COLORS[p.name] ?? '#555',
        value: p.cpuPer1k!,
        text: `${formatNumber(p.cpuPer1k!, 3)} CPU-s`,
      })),
  );
  const rssRows = measured.flatMap((r) =>
    r
      .cost!.processes.filter((p) => p.peakRssBytes !== null && r.cost!.pathProcesses.includes(p.name))
      .map((p) => ({
        label: `${label(r)}: ${p.name}`,
        color: PROCESS_COLORS[p.name] ?? '#555',
        value: p.peakRssBytes! / (1024 * 1024),
        text: formatBytes(p.peakRssBytes!),
      })),
  );
  return [
    barChart('CPU-s per 1,000 requests, by process on the path', cpuRows),
    barChart('peak RSS, by process on the path', rssRows),
  ];
}

function soakCharts(runs: RunResult[]): string[] {
  const soaks = runs.filter((r) => r.soak && r.phases);
  if (soaks.length === 0) return [];
  const xMax = Math.max(1, ...soaks.flatMap((r) => r.phases!.map((p) => p.endMs / 1000)));
  const rss = lineChart({
    title: 'RSS per window (MB, average), own process',
    yLabel: 'MB',
    series: soaks.map((r) => ({
      name: label(r),
      color: COLORS[r.target],
      points: r
        .phases!.filter((p) => p.processes[r.target]?.rssAvgBytes)
        .map(
          (p) =>
            [(p.startMs + p.endMs) / 2000, p.processes[r.target]!.rssAvgBytes! / (1024 * 1024)] as [
              number,
              number,
            ],
        ),
    })),
    xTicks: ticks(0, xMax, 's'),
    xMin: 0,
    xMax,
  });
  const p99 = lineChart({
    title: 'p99 per window (ms)',
    yLabel: 'ms',
    series: soaks.map((r) => ({
      name: label(r),
      color: COLORS[r.target],
      points: r.phases!.map((p) => [(p.startMs + p.endMs) / 2000, p.latency.p99] as [number, number]),
    })),
    xTicks: ticks(0, xMax, 's'),
    xMin: 0,
    xMax,
  });
  return [rss, p99];
}

function verdictList(runs: RunResult[]): string {
  const items = runs.flatMap((r) => {
    const where = `<b>${escapeHtml(label(r))}</b>: `;
    if (r.capacity) return [`<li>${where}${escapeHtml(r.capacity.summary)}</li>`];
    if (r.soak)
      return [
        `<li class="${r.soak.leak || r.soak.drifted ? 'bad' : ''}">${where}${escapeHtml(r.soak.summary)}</li>`,
      ];
    if (r.spike) return [`<li>${where}${escapeHtml(r.spike.summary)}</li>`];
    if (r.unverifiable) return [`<li class="warn">${where}${escapeHtml(r.unverifiable)}</li>`];
    return [];
  });
  return items.length > 0 ? `<ul class="verdicts">${items.join('')}</ul>` : '';
}

function costTable(runs: RunResult[]): string {
  const rows = runs
    .filter((r) => r.cost)
    .map((r) => {
      const c = r.cost!;
      const procs = c.processes
        .map((p) => {
          const onPath = c.pathProcesses.includes(p.name);
          const value =
            p.cpuPer1k === null
              ? `${escapeHtml(p.source)}${p.note ? ` <small>(${escapeHtml(p.note)})</small>` : ''}`
              : `${formatNumber(p.cpuSeconds ?? 0, 2)} CPU-s, ${formatNumber(p.cpuPer1k, 3)}/1k, peak ${p.peakRssBytes ? formatBytes(p.peakRssBytes) : '-'} <small>(${p.source})</small>`;
          return `<span class="${onPath ? '' : 'off'}">${p.name}: ${value}</span>`;
        })
        .join('<br>');
      const g = c.generator;
      const gen = g
        ? `${g.cpuCores.toFixed(2)} cores, event loop ${Math.round(g.elu * 100)}%${g.saturated || g.late ? ` <b class="bad">${g.saturated ? 'SATURATED' : 'LATE'}: ${escapeHtml(g.why ?? '')}</b>` : ''}`
        : '-';
      return `<tr><td class="t">${escapeHtml(r.scenario)}</td><td class="t">${escapeHtml(label(r))}</td><td class="n">${c.pathCpuPer1k === null ? '-' : formatNumber(c.pathCpuPer1k, 3)}</td><td>${procs}</td><td>${gen}</td></tr>`;
    })
    .join('');
  return rows
    ? `<table class="small"><tr><th>scenario</th><th>target</th><th>path CPU-s/1k req</th><th>per process (grey: not on this target's path)</th><th>load generator</th></tr>${rows}</table>`
    : '';
}

function scenarioSection(scenario: string, runs: RunResult[]): string {
  const first = runs[0]!;
  const charts: string[] = [];
  if (first.kind === 'capacity') charts.push(capacityChart(runs), achievedChart(runs));
  if (runs.some((r) => r.latency.count > 0)) charts.push(latencyBars('p50 (solid) and p99 (light)', runs));
  const withCurve = runs.filter((r) => r.curve.length > 0 && r.latency.count > 0);
  if (withCurve.length > 0) {
    charts.push(
      lineChart({
        title: 'latency by percentile (ms)',
        yLabel: 'ms',
        series: withCurve.map((r) => ({
          name: label(r),
          color: COLORS[r.target],
          points: r.curve.map(([p, ms]) => [ninesX(p), ms] as [number, number]),
        })),
        xTicks: [0, 50, 90, 99, 99.9, 99.99].map((p) => [ninesX(p), `p${p}`]),
        xMin: 0,
        xMax: ninesX(99.999),
      }),
    );
  }
  charts.push(...timelineCharts(runs), ...soakCharts(runs), ...costCharts(runs));
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
      return `<tr><td>${escapeHtml(label(r))}</td><td>${r.iterations.offered}/${r.iterations.completed}/${r.iterations.dropped}/${r.iterations.interrupted}</td><td>${escapeHtml(codes || '-')}</td><td>${steps || '-'}</td><td>${r.engine === 'k6' ? 'n/a (k6)' : formatMs(r.generatorLag.p99)}</td><td>${errors || '-'}</td></tr>`;
    })
    .join('');
  const phases = runs.some((r) => r.phases && r.kind !== 'soak')
    ? `<table class="small"><tr><th>target</th><th>phase</th><th>offered/s</th><th>achieved/s</th><th>p50</th><th>p99</th><th>errors</th><th>generator</th></tr>${runs
        .flatMap((r) =>
          (r.phases ?? []).map((p) => {
            const point = r.capacity?.curve.find((c) => c.rate === p.rate);
            return `<tr class="${point && !point.ok ? 'badrow' : ''}"><td>${escapeHtml(label(r))}</td><td>${escapeHtml(p.name)}</td><td class="n">${formatNumber(p.rate, 1)}</td><td class="n">${formatNumber(p.achievedRate, 1)}</td><td class="n">${formatMs(p.latency.p50)}</td><td class="n">${formatMs(p.latency.p99)}</td><td class="n">${p.errors} (${(p.errorRate * 100).toFixed(1)}%)</td><td>${p.generator.lagP90 === null ? '' : `start lag p90 ${formatMs(p.generator.lagP90)}`}${p.generator.elu === null ? '' : `, loop ${Math.round(p.generator.elu * 100)}%`}${point && !point.ok ? ` <small>${escapeHtml(point.reasons.join('; '))}</small>` : ''}</td></tr>`;
          }),
        )
        .join('')}</table>`
    : '';
  return `<section><h2>${escapeHtml(scenario)} <small>${escapeHtml(first.route)} · ${escapeHtml(first.kind)}${first.of ? ` of ${escapeHtml(first.of)}` : ''}</small></h2>
${verdictList(runs)}
<div class="charts">${charts.join('')}</div>
${phases}
<table class="small"><tr><th>target</th><th>iterations offered/completed/dropped/interrupted</th><th>status codes</th><th>steps</th><th>generator lag p99</th><th>error samples</th></tr>${details}</table>
</section>`;
}

function capacitySummary(report: CompareReport): string {
  const runs = report.runs.filter((r) => r.capacity);
  if (runs.length === 0) return '';
  const rows = runs
    .map((r) => {
      const c = r.capacity!;
      const value =
        c.limitedBy === 'slo'
          ? c.capacityAtSlo === null
            ? '&lt; first step'
            : `${formatNumber(c.capacityAtSlo, 0)}/s`
          : c.limitedBy === 'no-data'
            ? '-'
            : `≥ ${formatNumber(c.capacityAtSlo ?? 0, 0)}/s`;
      const own = r.cost?.processes.find((p) => p.name === r.cost?.own);
      return `<tr><td class="t">${escapeHtml(r.scenario)}</td><td class="t"><span class="dot" style="background:${COLORS[r.target]}"></span>${escapeHtml(label(r))}</td><td class="n"><b>${value}</b></td><td>${c.limitedBy === 'generator' ? '<b class="bad">generator limit</b> ' : ''}${escapeHtml(c.breach ? `${c.breach.rate}/s: ${c.breach.reasons.join('; ')}` : 'held at every step')}</td><td class="n">${c.knee ? `${formatNumber(c.knee.rate, 0)}/s` : '-'}</td><td class="n">p99 &lt; ${formatMs(c.slo.p99Ms)}, errors ≤ ${(c.slo.errorRate * 100).toFixed(0)}%</td><td class="n">${own?.cpuPer1k === null || own?.cpuPer1k === undefined ? '-' : formatNumber(own.cpuPer1k, 3)} · ${r.cost?.pathCpuPer1k === null || r.cost?.pathCpuPer1k === undefined ? '-' : formatNumber(r.cost.pathCpuPer1k, 3)}</td><td class="n">${own?.peakRssBytes ? formatBytes(own.peakRssBytes) : '-'}</td></tr>`;
    })
    .join('');
  const scenarios = [...new Set(runs.map((r) => r.scenario))];
  const curves = scenarios.map((s) => {
    const chart = capacityChart(runs.filter((r) => r.scenario === s));
    return chart.replace(
      'capacity curve: latency against offered load',
      `${escapeHtml(s)}: latency against offered load`,
    );
  });
  return `<h2>Capacity at SLO</h2>
<table><tr><th>scenario</th><th>target</th><th>capacity at SLO</th><th>broke at</th><th>knee</th><th>SLO</th><th>CPU-s/1k req own · path</th><th>peak RSS own</th></tr>${rows}</table>
<div class="charts" id="capacity-curves">${curves.join('')}</div>`;
}

function resultsSummary(report: CompareReport): string {
  const runs = report.runs.filter((r) => r.kind !== 'capacity');
  if (runs.length === 0) return '';
  const rows = runs
    .map((r) => {
      const failed = failedThresholds(r);
      const verdict = r.unverifiable
        ? '<span class="warn">not verifiable</span>'
        : `<span class="${failed.length ? 'bad' : 'ok'}">${failed.length ? `FAIL ${failed.join(', ')}` : 'pass'}</span>`;
      const own = r.cost?.processes.find((p) => p.name === r.cost?.own);
      return `<tr><td class="t">${escapeHtml(r.scenario)}</td><td class="t"><span class="dot" style="background:${COLORS[r.target]}"></span>${escapeHtml(label(r))}</td><td class="n">${formatNumber(r.offeredRate, 1)}</td><td class="n">${r.throughput.toFixed(1)}</td>${r.latency.count > 0 ? `<td class="n">${formatMs(r.latency.p50)}</td><td class="n">${formatMs(r.latency.p95)}</td><td class="n">${formatMs(r.latency.p99)}</td>` : '<td class="n">-</td><td class="n">-</td><td class="n">-</td>'}<td class="n">${r.errors}${r.errors ? ` (${(r.errorRate * 100).toFixed(1)}%)` : ''}</td><td class="n">${own?.cpuPer1k === null || own?.cpuPer1k === undefined ? '-' : formatNumber(own.cpuPer1k, 3)} · ${r.cost?.pathCpuPer1k === null || r.cost?.pathCpuPer1k === undefined ? '-' : formatNumber(r.cost.pathCpuPer1k, 3)}</td><td class="n">${own?.peakRssBytes ? formatBytes(own.peakRssBytes) : '-'}</td><td class="n">${r.upstreamCalls ?? '-'}</td><td>${verdict} <small>(p95&lt;${r.thresholds.p95.limit}, p99&lt;${r.thresholds.p99.limit} ms, errors≤${r.thresholds.errorRate.limit * 100}%)</small></td></tr>`;
    })
    .join('');
  return `<h2>Results</h2>
<table><tr><th>scenario</th><th>target</th><th>offered it/s</th><th>req/s</th><th>p50</th><th>p95</th><th>p99</th><th>errors</th><th>CPU-s/1k req own · path</th><th>peak RSS own</th><th>upstream calls</th><th>thresholds</th></tr>${rows}</table>`;
}

function ratiosSection(report: CompareReport): string {
  if (report.ratios.length === 0) return '';
  const cell = (r: Ratio | undefined) =>
    r
      ? `<td class="n${r.note ? ' warn' : ''}"${r.note ? ` title="${escapeHtml(r.note)}"` : ''}>${r.note ? '≥? ' : ''}${r.value === null ? '-' : `${r.value.toFixed(2)}×`}${r.numerator === 'gateway' ? ` <small>÷ ${escapeHtml(r.denominator)}${r.basis && r.basis !== 'backend header' ? `, ${escapeHtml(r.basis)}` : ''}</small>` : ''}</td>`
      : '<td class="n">-</td>';
  const rows = ratioRows(report.ratios)
    .map(
      (r) =>
        `<tr><td>${escapeHtml(r.scenario)}</td><td>${escapeHtml(METRICS[r.metric].label)}</td>${cell(r.modern)}${cell(r.gateway)}</tr>`,
    )
    .join('');
  const notes = [...new Set(report.ratios.filter((r) => r.note).map((r) => `${r.scenario}: ${r.note}`))];
  return `<h2>Ratios</h2>
<p class="meta">Each column names what it divides. Capacity: &gt; 1 is more. Latency, CPU and memory: &lt; 1 is less. gateway ÷ direct divides by the backend the gateway routed to (its backend header), and for CPU whole paths (gateway and backends ÷ the backend alone): what the gateway in front costs. A fixed-rate run's req/s is the offered rate, so it is not compared.</p>
<table><tr><th>scenario</th><th>metric</th><th>modern ÷ legacy</th><th>gateway ÷ direct backend</th></tr>${rows}</table>
${notes.length ? `<ul class="meta">${notes.map((n) => `<li>≥? ${escapeHtml(n)}</li>`).join('')}</ul>` : ''}`;
}

function baselineSection(report: CompareReport): string {
  const b = report.baseline;
  if (!b) return '';
  const rows = b.rows
    .map(
      (r) =>
        `<tr class="${r.verdict === 'worse' ? 'badrow' : r.verdict === 'better' ? 'goodrow' : ''}"><td>${escapeHtml(r.scenario)}</td><td>${r.target}</td><td>${escapeHtml(METRICS[r.metric].label)}</td><td class="n">${r.baseline ?? '-'}</td><td class="n">${r.current ?? '-'}</td><td class="n">${r.changePct === null ? '-' : `${r.changePct > 0 ? '+' : ''}${r.changePct.toFixed(1)}%`}</td><td class="n">${r.noisePct === null ? '?' : `±${r.noisePct.toFixed(1)}%`}</td><td>${escapeHtml(r.verdict)}</td></tr>`,
    )
    .join('');
  return `<h2>Against the baseline</h2>
<p class="meta"><code>${escapeHtml(b.file)}</code> (${escapeHtml(b.startedAt)}, ${b.engine}). A change is marked only beyond the run-to-run noise measured by repeat rounds (the larger of the two runs').${b.unmatched.length ? ` Unmatched: ${escapeHtml(b.unmatched.join('; '))}.` : ''}</p>
<table class="small"><tr><th>scenario</th><th>target</th><th>metric</th><th>baseline</th><th>now</th><th>change</th><th>noise</th><th>verdict</th></tr>${rows}</table>`;
}

function costSection(report: CompareReport): string {
  const table = costTable(report.runs);
  return table
    ? `<h2>Cost</h2><p class="meta">CPU-seconds and peak RSS of each service process (from /proc for processes on this machine, else from their process_* metrics on /metrics), and the load generator's own CPU: a saturated generator measures itself, not the service.</p>${table}`
    : '';
}

export function renderHtml(report: CompareReport): string {
  const scenarios = [...new Set(report.runs.map((r) => r.scenario))];
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
<html lang="en"><head><meta charset="utf-8"><title>pilot load report ${escapeHtml(report.startedAt)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:24px;color:#222;max-width:1900px}
h1{font-size:20px;margin:0 0 4px} h2{font-size:16px;margin:28px 0 6px} h2 small{color:#666;font-weight:normal}
table{border-collapse:collapse;margin:8px 0} td,th{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f4f6f8} td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap} td.t{white-space:nowrap} .ok{color:#1e8449} .bad{color:#c0392b;font-weight:600} .warn{color:#b9770e;font-weight:600}
tr.badrow td{background:#fdecea} tr.goodrow td{background:#eafaf1} span.off{color:#999}
table.small{font-size:12px} code{font-size:12px} .meta{color:#555}
.dot{display:inline-block;width:9px;height:9px;border-radius:50%;margin-right:6px}
.charts{display:flex;flex-wrap:wrap;gap:12px} svg{background:#fcfcfc;border:1px solid #eee}
.grid{stroke:#e5e5e5} .ct{font-size:12px;font-weight:600} .xt{font-size:10px;text-anchor:middle;fill:#555}
.yt{font-size:10px;text-anchor:end;fill:#555} .yl{font-size:10px;text-anchor:middle;fill:#555} .lg{font-size:10px;fill:#333}
.slo{stroke:#c0392b;stroke-dasharray:6 4;stroke-width:1} .sl{font-size:10px;fill:#c0392b;text-anchor:end} .band{fill:#fdebd0;opacity:.6}
ul.verdicts{margin:4px 0 8px}
</style></head><body>
<h1>Migration load report (${escapeHtml(report.engine)}, ${escapeHtml(report.mode)}: ${escapeHtml(report.kinds.join(', '))})</h1>
<p class="meta">${escapeHtml(report.startedAt)} → ${escapeHtml(report.finishedAt)} · ${escapeHtml(report.tool)} · ${report.engine === 'node' ? `Node ${escapeHtml(report.machine.node)} on ${report.machine.cpus} CPUs (${escapeHtml(report.machine.platform)})` : escapeHtml(report.machine.node)} · targets: ${targets} (${escapeHtml(report.stackSource)}) · ${report.rounds} round${report.rounds === 1 ? '' : 's'} · catalogue sha256 <code>${escapeHtml(report.catalogue.sha256.slice(0, 12))}</code> · upstream calls from <code>${escapeHtml(report.upstreamMetric)}</code></p>
${capacitySummary(report)}
${resultsSummary(report)}
${ratiosSection(report)}
${costSection(report)}
${baselineSection(report)}
${notes ? `<h2>Notes</h2><ul>${notes}</ul>` : ''}
<h2>How to read this</h2>
<ul>
<li>Load is open-model: iterations start on a fixed schedule (arrival rate) whatever the server does, and latency is measured from each iteration's scheduled start, so a stalling server shows up as latency instead of hiding (no coordinated omission).</li>
<li>Capacity at SLO is the highest offered rate whose step kept p99 and the error rate within the scenario's limits and completed at least 90% of what was offered. The knee (ring) is where latency starts climbing faster than load: the point farthest below the straight line from the first step to the last. A cross marks the first step that broke.</li>
<li>If the load generator could not keep up (iterations started late, or its event loop was saturated), the capacity is reported as "≥" the last good step: the generator was the limit, not the target.</li>
<li>CPU-s/1k req is CPU time of the process (own) or of every process on the request's path (gateway: gateway + backends + cms) per 1,000 requests: the cost of serving, independent of how busy the machine was.</li>
<li>Offered (dashed) against achieved (solid) iterations per second: where they part, the target is falling behind.</li>
<li>upstream calls are the increase of the services' Strapi request counter during the run: fewer means the cache and request coalescing did their job.</li>
</ul>
${sections}
</body></html>
`;
}
