// `pnpm compare`: catalogue scenarios against legacy, modern and the gateway side by side in one
// run, then tables, ratios, cost, results.json and a self-contained report.html in
// load-tests/reports/<timestamp>/.
//
//   pnpm compare                       # fixed-rate scenarios (latency and cost at a known load)
//   pnpm compare --capacity            # stepped arrival rate until the SLO breaks: capacity at SLO
//   pnpm compare --soak | --spike      # 10-minute soak (RSS, p99 drift) | 10× spike (recovery)
//   pnpm compare --smoke               # every kind, a few seconds each; exit 1 on any error
//   pnpm compare --rounds 3 --baseline reports/<earlier>/results.json
//   pnpm compare --scenario cached-read,aggregate-fanout --target legacy,modern
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { startDelayedUpstream, type TestServer } from '@pilot/test-kit';
import { parseDuration } from '../k6/lib/core.js';
import { capacityRates, kindOf } from '../k6/lib/kinds.js';
import { compareWithBaseline, loadBaseline } from './baseline.ts';
import { fromCaller } from './caller-path.ts';
import {
  type Catalogue,
  CATALOGUE_PATH,
  KIND_NAMES,
  loadCatalogue,
  type Scenario,
  scenarioTargets,
  type Target,
  TARGET_NAMES,
} from './catalogue.ts';
import type { ProcessName } from './cost.ts';
import { formatMs, formatNumber } from './format.ts';
import { readTotalUpstreamCalls, UPSTREAM_CALL_METRICS } from './metrics.ts';
import { type CompareReport, type Kind, RESULTS_SCHEMA, type RunResult } from './model.ts';
import { createMonitor, type ProcessSpec } from './monitor.ts';
import {
  baselineTable,
  capacityTable,
  REPORTS_DIR,
  ratiosTable,
  reportDir,
  resultsTable,
  roundsTable,
  verdictLines,
  type WrittenReport,
  writeReport,
} from './report.ts';
import { runScenario } from './runner.ts';
import { resolveTargets, type StackStarter, type StartedStack, type TargetUrls } from './stack.ts';
import { computeRatios, summarize } from './summary.ts';

export interface CapacityOverrides {
  steps?: number;
  stepDuration?: string;
  startRate?: number;
  factor?: number;
}

export interface CompareOptions {
  mode?: 'full' | 'smoke';
  /** Kinds of scenario to run; default: fixed for a full run, every kind for a smoke run. */
  kinds?: Kind[];
  /** Catalogue object (tests) or path; default load-tests/scenarios.json. */
  catalogue?: Catalogue;
  cataloguePath?: string;
  /** Target URLs to use as they are (no probing, nothing started). */
  urls?: TargetUrls;
  /** Starts what is missing (default: startStack() imported from scripts/stack/start.ts). */
  startStack?: StackStarter;
  /** May compare start missing targets (default true)? Else it names them and stops. */
  start?: boolean;
  /** Health probe for default ports and given URLs (tests). */
  probe?: (url: string) => Promise<boolean>;
  /** Only these scenarios (any kind) / targets. */
  scenarios?: string[];
  targets?: Target[];
  warmup?: boolean;
  /** Repeat every run this many times (interleaved by target) to measure the noise (default 1). */
  rounds?: number;
  /** A results.json to compare with. */
  baseline?: string;
  capacity?: CapacityOverrides;
  /** Sample service processes' CPU and RSS (default true). */
  measureCost?: boolean;
  reportsRoot?: string;
  /** Progress and result lines (default: stdout). */
  log?: (line: string) => void;
  env?: Record<string, string | undefined>;
  /** Aborts the run (Ctrl-C): in-flight requests are cancelled, a started stack is stopped. */
  signal?: AbortSignal;
  /** Delay of each /aggregate upstream compare starts for services it starts itself (ms). */
  aggregateDelayMs?: number;
}

export interface CompareOutcome {
  report: CompareReport;
  files: WrittenReport;
  /** Smoke-mode correctness problems (empty when all is well). */
  problems: string[];
}

/**
 * The HTTP upstreams of GET /aggregate that compare starts (deterministic, 1 s each) when it
 * starts services, and the env var each URL goes to. The third part of /aggregate is Strapi's
 * latest articles, served from the services' cache after warm-up.
 */
export const AGGREGATE_UPSTREAMS = {
  weather: 'AGGREGATE_WEATHER_URL',
  quote: 'AGGREGATE_QUOTE_URL',
} as const;

/** Above this p99 generator lag (ms) a run's numbers are flagged in the notes. */
export const GENERATOR_LAG_WARN_MS = 100;

/** The catalogue with capacity plans changed by command-line overrides (VUs kept sufficient). */
export function withCapacityOverrides(catalogue: Catalogue, overrides: CapacityOverrides): Catalogue {
  if (Object.values(overrides).every((v) => v === undefined)) return catalogue;
  if (overrides.stepDuration !== undefined) parseDuration(overrides.stepDuration); // throws on a bad one
  return {
    ...catalogue,
    scenarios: catalogue.scenarios.map((s) => {
      if (!s.capacity) return s;
      const plan = { ...s.capacity };
      if (overrides.steps !== undefined) plan.steps = overrides.steps;
      if (overrides.stepDuration !== undefined) plan.stepDuration = overrides.stepDuration;
      if (overrides.startRate !== undefined) plan.startRate = overrides.startRate;
      if (overrides.factor !== undefined) plan.factor = overrides.factor;
      const p99 = (s.thresholds ?? catalogue.defaults.thresholds).p99Ms;
      const peak = Math.max(...capacityRates(plan));
      plan.maxVUs = Math.max(plan.maxVUs ?? 100, Math.ceil((peak * p99) / 1000));
      return { ...s, capacity: plan };
    }),
  };
}

function plannedScenarios(catalogue: Catalogue, options: CompareOptions, mode: 'full' | 'smoke'): Scenario[] {
  for (const name of options.scenarios ?? []) {
    if (!catalogue.scenarios.some((s) => s.name === name)) {
      throw new Error(
        `unknown scenario "${name}"; known: ${catalogue.scenarios.map((s) => s.name).join(', ')}`,
      );
    }
  }
  if (options.scenarios?.length)
    return catalogue.scenarios.filter((s) => options.scenarios!.includes(s.name));
  const kinds = options.kinds?.length ? options.kinds : mode === 'smoke' ? KIND_NAMES : (['fixed'] as Kind[]);
  return catalogue.scenarios.filter((s) => kinds.includes(kindOf(s) as Kind));
}

export async function runCompare(options: CompareOptions = {}): Promise<CompareOutcome> {
  const mode = options.mode ?? 'full';
  const env = options.env ?? process.env;
  const log = options.log ?? ((line: string) => console.log(line));
  const cataloguePath = options.cataloguePath ?? CATALOGUE_PATH;
  const catalogue = withCapacityOverrides(
    options.catalogue ?? loadCatalogue(cataloguePath),
    options.capacity ?? {},
  );
  const catalogueText = options.catalogue
    ? JSON.stringify(options.catalogue)
    : readFileSync(cataloguePath, 'utf8');
  const rounds = Math.max(1, Math.floor(options.rounds ?? (options.baseline ? 2 : 1)));
  const baseline = options.baseline ? loadBaseline(options.baseline) : null; // fail before any load
  const began = performance.now();
  const startedAt = new Date();
  const stamp = () => `[${((performance.now() - began) / 1000).toFixed(1).padStart(6)}s]`;
  const notes: string[] = [];
  const [load1] = loadavg();
  const cpus = availableParallelism();
  if (load1 !== undefined && load1 > cpus * 0.5) {
    notes.push(
      `Load average ${load1.toFixed(1)} on ${cpus} CPUs when the run started: other work shared the machine, so latency and capacity are noisy (CPU per request much less so). Compare numbers within this run.`,
    );
  }

  const scenarios = plannedScenarios(catalogue, options, mode);
  const wantedTargets = options.targets?.length ? options.targets : TARGET_NAMES;
  const wantedByPlan = wantedTargets.filter((t) => scenarios.some((s) => scenarioTargets(s).includes(t)));

  const upstreams: TestServer[] = [];
  let stack: StartedStack | null = null;
  try {
    let urls: TargetUrls;
    let stackSource: string;
    let cmsUrl: string | null = null;
    let gatewayAdminUrl: string | null = null;
    if (options.urls) {
      urls = options.urls;
      stackSource = 'given URLs';
      notes.push(
        'Targets were given (URLs); /aggregate upstream delays are whatever those services are configured with.',
      );
    } else {
      const resolved = await resolveTargets({
        wanted: wantedByPlan,
        env,
        start: options.start ?? true,
        ...(options.startStack ? { starter: options.startStack } : {}),
        ...(options.probe ? { probe: options.probe } : {}),
        log: (line) => log(`${stamp()} ${line}`),
        starterEnv: async () => {
          const delayMs = options.aggregateDelayMs ?? Number(env.AGGREGATE_DELAY_MS ?? 1000);
          const upstreamEnv: Record<string, string> = {};
          for (const [name, variable] of Object.entries(AGGREGATE_UPSTREAMS)) {
            const server = await startDelayedUpstream(name, { delayMs });
            upstreams.push(server);
            upstreamEnv[variable] = server.url;
          }
          log(
            `${stamp()} started ${upstreams.length} /aggregate upstreams answering after ${delayMs} ms each`,
          );
          return upstreamEnv;
        },
      });
      stack = resolved.stack;
      urls = resolved.urls;
      cmsUrl = resolved.cmsUrl;
      gatewayAdminUrl = resolved.gatewayAdminUrl;
      options.signal?.throwIfAborted();
      const bySource = (src: string) =>
        (Object.entries(resolved.sources) as Array<[Target, string]>)
          .filter(([, s]) => s === src)
          .map(([t]) => t);
      const parts = [
        bySource('env').length ? `from env: ${bySource('env').join(', ')}` : '',
        bySource('running').length ? `running on default ports: ${bySource('running').join(', ')}` : '',
        bySource('started').length ? `started by compare: ${bySource('started').join(', ')}` : '',
      ].filter(Boolean);
      stackSource = parts.join('; ');
      if (
        bySource('started').length > 0 &&
        bySource('started').length < Object.keys(resolved.sources).length
      ) {
        notes.push(
          `/aggregate upstreams differ: services compare started use its ${options.aggregateDelayMs ?? env.AGGREGATE_DELAY_MS ?? 1000} ms upstreams, the ones already running use whatever they were configured with.`,
        );
      } else if (bySource('started').length === 0) {
        notes.push(
          '/aggregate upstream delays are whatever the running services are configured with (compare started none).',
        );
      }
    }
    for (const url of Object.values(urls)) if (url) new URL(url); // fail fast on a malformed URL

    const targets = wantedTargets.filter((t) => urls[t]);
    for (const t of wantedByPlan) if (!urls[t]) notes.push(`${t}: no URL, skipped.`);
    if (targets.length === 0) throw new Error('no target URL to run against');
    log(`${stamp()} targets: ${targets.map((t) => `${t}=${urls[t]}`).join('  ')}`);
    const metricSources = (['legacy', 'modern'] as Target[])
      .map((t) => urls[t])
      .filter((u): u is string => !!u);

    // What to measure: every service process a request to these targets can pass through.
    const specs: ProcessSpec[] = [];
    for (const t of ['legacy', 'modern', 'gateway'] as Target[]) {
      const url = urls[t];
      if (!url) continue;
      const metricsUrl =
        t === 'gateway' ? (gatewayAdminUrl ? `${gatewayAdminUrl}/metrics` : undefined) : `${url}/metrics`;
      specs.push({ name: t as ProcessName, url, ...(metricsUrl ? { metricsUrl } : {}) });
    }
    if (cmsUrl) specs.push({ name: 'cms', url: cmsUrl });
    const measure = options.measureCost ?? true;

    const plan: Array<{ scenario: Scenario; target: Target; round: number }> = [];
    for (let round = 1; round <= rounds; round++) {
      for (const scenario of scenarios) {
        for (const target of scenarioTargets(scenario))
          if (targets.includes(target)) plan.push({ scenario, target, round });
      }
    }
    for (const scenario of scenarios) {
      for (const t of targets) {
        const why = scenario.notApplicable?.[t];
        if (why) notes.push(`${scenario.name} is not run against ${t}: ${why}`);
      }
    }

    if (options.warmup ?? true) {
      // Warm caches, JIT and keep-alive pools before measuring, once per request shape (a kind
      // scenario warms with the fixed one it loads like). A smoke run only needs every route
      // touched once, so it warms with a single iteration.
      const warm: Catalogue =
        mode === 'smoke'
          ? {
              ...catalogue,
              defaults: { ...catalogue.defaults, warmup: { rate: 1, duration: '1s' } },
              scenarios: catalogue.scenarios.map(({ warmup: _unused, ...rest }) => rest),
            }
          : catalogue;
      for (const target of targets) {
        let requests = 0;
        let errors = 0;
        const seen = new Set<string>();
        for (const { scenario } of plan.filter((p) => p.target === target && p.round === 1)) {
          const base = scenario.of ?? scenario.name;
          if (seen.has(base)) continue;
          seen.add(base);
          const warmScenario = warm.scenarios.find((s) => s.name === base)!;
          const run = await runScenario({
            catalogue: warm,
            scenario: warmScenario,
            target,
            baseUrl: urls[target]!,
            mode: 'warmup',
            env,
            ...(options.signal ? { signal: options.signal } : {}),
          });
          options.signal?.throwIfAborted();
          requests += run.requests;
          errors += run.errors;
        }
        log(`${stamp()} warm-up ${target}: ${requests} requests, ${errors} errors`);
      }
    }

    const runs: RunResult[] = [];
    for (const [i, { scenario, target, round }] of plan.entries()) {
      const before = await readTotalUpstreamCalls(metricSources);
      const run = await runScenario({
        catalogue,
        scenario,
        target,
        baseUrl: urls[target]!,
        mode,
        env,
        round,
        ...(measure ? { monitor: createMonitor({ processes: specs }) } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      });
      options.signal?.throwIfAborted();
      const after = await readTotalUpstreamCalls(metricSources);
      run.upstreamCalls = before !== null && after !== null ? after - before : null;
      runs.push(run);
      log(`${stamp()} ${String(i + 1).padStart(2)}/${plan.length} ${progressLine(run)}`);
    }

    notes.push(...runNotes(runs));
    const summaries = summarize(runs);
    const report: CompareReport = {
      schema: RESULTS_SCHEMA,
      tool: '@pilot/load-tests compare',
      engine: 'node',
      mode,
      kinds: [...new Set(runs.map((r) => r.kind))],
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      catalogue: { path: cataloguePath, sha256: createHash('sha256').update(catalogueText).digest('hex') },
      machine: { node: process.version, platform: `${process.platform}-${process.arch}`, cpus },
      targets: Object.fromEntries(targets.map((t) => [t, urls[t]!])),
      stackSource,
      upstreamMetric: UPSTREAM_CALL_METRICS.join(' | '),
      rounds,
      runs,
      summaries,
      ratios: computeRatios(summaries, runs),
      notes,
    };
    if (baseline) {
      report.baseline = compareWithBaseline(summaries, baseline, options.baseline!);
      if (baseline.engine !== 'node') {
        notes.push(
          `The baseline is a ${baseline.engine} run: it measures latency from each request's start, this run from each iteration's scheduled start. Compare capacity and CPU, not latency.`,
        );
      }
    }
    const kindSuffix = report.kinds.length === 1 && report.kinds[0] !== 'fixed' ? `-${report.kinds[0]}` : '';
    const files = writeReport(
      report,
      reportDir(options.reportsRoot ?? REPORTS_DIR, startedAt, mode, kindSuffix),
    );
    printReport(report, log);
    log('');
    log(`report: ${files.html}`);
    log(`results: ${files.json}`);
    return { report, files, problems: smokeProblems(report) };
  } finally {
    await stack?.stop();
    await Promise.all(upstreams.map((u) => u.close()));
  }
}

function progressLine(run: RunResult): string {
  const head = `${run.scenario} → ${run.target}${run.round > 1 ? ` (round ${run.round})` : ''}: `;
  const own = run.cost?.processes.find((p) => p.name === run.cost?.own);
  const cost =
    own?.cpuPer1k !== null && own?.cpuPer1k !== undefined
      ? `, ${formatNumber(own.cpuPer1k, 3)} CPU-s/1k req, peak RSS ${((own.peakRssBytes ?? 0) / 1048576).toFixed(0)} MB`
      : '';
  const gen = run.cost?.generator?.saturated
    ? ' [generator saturated]'
    : run.cost?.generator?.late
      ? ' [generator late]'
      : '';
  if (run.capacity) return `${head}capacity ${run.capacity.summary}${cost}${gen}`;
  return (
    `${head}${run.requests} req, ${run.throughput.toFixed(1)} req/s, p50 ${formatMs(run.latency.p50)}, ` +
    `p99 ${formatMs(run.latency.p99)}, ${run.errors} errors${run.thresholds.ok ? '' : ' (thresholds missed)'}${cost}${gen}`
  );
}

function runNotes(runs: RunResult[]): string[] {
  const notes: string[] = [];
  const lagged = runs.filter((r) => r.generatorLag.p99 > GENERATOR_LAG_WARN_MS);
  if (lagged.length > 0) {
    const worst = Math.max(...lagged.map((r) => r.generatorLag.p99));
    notes.push(
      `The load generator started iterations late (p99 lag up to ${formatMs(worst)}) in ${lagged.length} of ${runs.length} runs: ` +
        'the machine was saturated, so those latencies describe the machine as much as the service. Re-run on a quieter machine or lower the rates.',
    );
  }
  const saturated = runs.filter((r) => r.cost?.generator?.saturated);
  if (saturated.length > 0) {
    notes.push(
      `The load generator's own thread was saturated in ${saturated.map((r) => `${r.scenario} → ${r.target}`).join(', ')}: ` +
        'there the generator, not the service, set the pace.',
    );
  }
  const generatorLimited = runs.filter((r) => r.capacity?.limitedBy === 'generator');
  if (generatorLimited.length > 0) {
    notes.push(
      `Capacity is the generator's limit, not the target's, for ${generatorLimited.map((r) => `${r.scenario} → ${r.target}`).join(', ')} ("≥"): ` +
        'use k6 or more load machines for a higher rate (load-tests/README.md, distributed k6).',
    );
  }
  const sources = new Map<string, string>();
  for (const run of runs) {
    for (const p of run.cost?.processes ?? [])
      if (p.source !== 'proc' && p.note) sources.set(p.name, `${p.name}: ${p.note}`);
  }
  if (sources.size > 0) notes.push(`Cost: ${[...sources.values()].join('; ')}.`);
  return notes;
}

function printReport(report: CompareReport, log: (line: string) => void): void {
  if (report.runs.some((r) => r.kind !== 'capacity')) {
    log('');
    log(resultsTable(report.runs));
  }
  if (report.runs.some((r) => r.capacity)) {
    log('');
    log("capacity at SLO (the highest offered rate whose step held the scenario's p99 and error limits)");
    log(capacityTable(report.runs));
  }
  const verdicts = verdictLines(report.runs);
  if (verdicts.length > 0) {
    log('');
    for (const line of verdicts) log(line);
  }
  if (report.ratios.length > 0) {
    log('');
    log('ratios (each says what it divides; capacity > 1 is more, time/CPU/memory < 1 is less)');
    log(ratiosTable(report.ratios));
  }
  if (report.rounds > 1) {
    log('');
    log(`medians over ${report.rounds} rounds; noise = (max − min) ÷ median`);
    log(roundsTable(report.summaries));
  }
  if (report.baseline) {
    log('');
    log(`against the baseline ${report.baseline.file} (${report.baseline.startedAt})`);
    log(baselineTable(report.baseline));
    for (const u of report.baseline.unmatched) log(`  unmatched: ${u}`);
  }
  for (const note of report.notes) log(`note: ${note}`);
}

/** What a smoke run must not show: errors, or a scenario/target without samples. */
export function smokeProblems(report: CompareReport): string[] {
  const problems: string[] = [];
  for (const run of report.runs) {
    const where = `${run.scenario} → ${run.target}`;
    if (run.latency.count === 0) problems.push(`${where}: no samples`);
    if (run.errors > 0) {
      problems.push(
        `${where}: ${run.errors} errors (${Object.keys(run.errorKinds).join('; ')}) ${run.errorSamples.join(' | ')}`,
      );
    }
    if (run.kind !== 'fixed' && (run.phases?.length ?? 0) === 0) problems.push(`${where}: no phase measured`);
  }
  if (report.runs.length === 0) problems.push('no scenario ran');
  return problems;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      smoke: { type: 'boolean', default: false },
      capacity: { type: 'boolean', default: false },
      soak: { type: 'boolean', default: false },
      spike: { type: 'boolean', default: false },
      fixed: { type: 'boolean', default: false },
      scenario: { type: 'string', multiple: true },
      target: { type: 'string', multiple: true },
      rounds: { type: 'string' },
      baseline: { type: 'string' },
      steps: { type: 'string' },
      'step-duration': { type: 'string' },
      'start-rate': { type: 'string' },
      factor: { type: 'string' },
      'no-warmup': { type: 'boolean', default: false },
      'no-start': { type: 'boolean', default: false },
      strict: { type: 'boolean', default: false },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(
      [
        'usage: pnpm compare [--capacity | --soak | --spike | --fixed] [--smoke] [--scenario a,b] [--target legacy,modern,gateway]',
        '                    [--rounds N] [--baseline results.json] [--steps N] [--step-duration 2s] [--start-rate R] [--factor F]',
        '                    [--no-warmup] [--no-start] [--strict] [--out DIR]',
        '  default: the fixed-rate scenarios; --smoke: every kind, briefly (CI)',
        '  --capacity: stepped arrival rate until the SLO breaks (≈ 3-4 min for the catalogue on 2 cores)',
        '  --rounds N: repeat each run N times to measure noise (default 1, 2 with --baseline)',
        '  --no-start: use what answers on the default ports; name what is missing and stop',
        'env: LEGACY_URL MODERN_URL GATEWAY_URL (used as given), GATEWAY_ADMIN_URL STRAPI_URL (cost from /metrics), VAR_<name>',
      ].join('\n'),
    );
    return 0;
  }
  const split = (list: string[] | undefined) =>
    (list ?? [])
      .flatMap((v) => v.split(','))
      .map((v) => v.trim())
      .filter(Boolean);
  const targets = split(values.target);
  for (const t of targets) if (!TARGET_NAMES.includes(t as Target)) throw new Error(`unknown target "${t}"`);
  const number = (name: string, text: string | undefined, min: number): number | undefined => {
    if (text === undefined) return undefined;
    const n = Number(text);
    if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number ≥ ${min}, got "${text}"`);
    return n;
  };
  const kinds = (['fixed', 'capacity', 'soak', 'spike'] as Kind[]).filter((k) => values[k]);
  // The stack's services run in their own process groups (a terminal's Ctrl-C does not reach
  // them): stop them, and the run, on SIGINT/SIGTERM.
  const interrupt = new AbortController();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`\n${signal}: stopping the run and what it started`);
      interrupt.abort(new Error(`interrupted (${signal})`));
    });
  }
  const steps = number('steps', values.steps, 2);
  const startRate = number('start-rate', values['start-rate'], 0.1);
  const factor = number('factor', values.factor, 1.01);
  const rounds = number('rounds', values.rounds, 1);
  const outcome = await runCompare({
    signal: interrupt.signal,
    mode: values.smoke ? 'smoke' : 'full',
    kinds,
    scenarios: split(values.scenario),
    targets: targets as Target[],
    warmup: !values['no-warmup'],
    start: !values['no-start'],
    ...(rounds !== undefined ? { rounds } : {}),
    ...(values.baseline ? { baseline: fromCaller(values.baseline) } : {}),
    capacity: {
      ...(steps !== undefined ? { steps: Math.floor(steps) } : {}),
      ...(values['step-duration'] ? { stepDuration: values['step-duration'] } : {}),
      ...(startRate !== undefined ? { startRate } : {}),
      ...(factor !== undefined ? { factor } : {}),
    },
    ...(values.out ? { reportsRoot: fromCaller(values.out) } : {}),
  });
  if (values.smoke && outcome.problems.length > 0) {
    console.error(`smoke failed:\n${outcome.problems.map((p) => `  - ${p}`).join('\n')}`);
    return 1;
  }
  if (
    values.strict &&
    outcome.report.runs.some((r) => r.kind !== 'capacity' && r.kind !== 'spike' && !r.thresholds.ok)
  ) {
    console.error('thresholds missed (--strict)');
    return 1;
  }
  if (values.strict && outcome.report.runs.some((r) => r.soak?.leak)) {
    console.error('a soak found a leak (--strict)');
    return 1;
  }
  return 0;
}

if (import.meta.main) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : error);
      process.exit(1);
    },
  );
}
