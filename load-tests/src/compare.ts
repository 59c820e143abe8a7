// `pnpm compare`: every catalogue scenario against legacy, modern and the gateway, one after
// another in one run, then a table, ratios, results.json and a self-contained report.html
// in load-tests/reports/<timestamp>/.
//
//   pnpm compare                       # full run (≈ 20 s per scenario and target)
//   pnpm compare --smoke               # a few seconds each; exit 1 on any error or empty scenario
//   pnpm compare --scenario cached-read,aggregate-fanout --target legacy,modern
//   LEGACY_URL=… MODERN_URL=… GATEWAY_URL=… pnpm compare   # use running services
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { startDelayedUpstream, type TestServer } from '@pilot/test-kit';
import {
  type Catalogue,
  CATALOGUE_PATH,
  loadCatalogue,
  scenarioTargets,
  type Target,
  TARGET_NAMES,
} from './catalogue.ts';
import { formatMs } from './format.ts';
import { readTotalUpstreamCalls, UPSTREAM_CALL_METRICS } from './metrics.ts';
import {
  type CompareReport,
  computeRatios,
  REPORTS_DIR,
  ratiosTable,
  reportDir,
  resultsTable,
  type WrittenReport,
  writeReport,
} from './report.ts';
import { type RunResult, runScenario } from './runner.ts';
import { type StackStarter, type StartedStack, startStack, type TargetUrls, urlsFromEnv } from './stack.ts';

export interface CompareOptions {
  mode?: 'full' | 'smoke';
  /** Catalogue object (tests) or path; default load-tests/scenarios.json. */
  catalogue?: Catalogue;
  cataloguePath?: string;
  /** Target URLs; default from LEGACY_URL/MODERN_URL/GATEWAY_URL, else `startStack`. */
  urls?: TargetUrls;
  startStack?: StackStarter;
  /** Only these scenarios / targets. */
  scenarios?: string[];
  targets?: Target[];
  warmup?: boolean;
  reportsRoot?: string;
  /** Progress and result lines (default: stdout). */
  log?: (line: string) => void;
  env?: Record<string, string | undefined>;
  /** Aborts the run (Ctrl-C): in-flight requests are cancelled, a started stack is stopped. */
  signal?: AbortSignal;
  /** Delay of each /aggregate upstream compare starts for a stack it starts itself (ms). */
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
 * starts the stack, and the env var each URL goes to. The third part of /aggregate is Strapi's
 * latest articles, served from the services' cache after warm-up.
 */
export const AGGREGATE_UPSTREAMS = {
  weather: 'AGGREGATE_WEATHER_URL',
  quote: 'AGGREGATE_QUOTE_URL',
} as const;

/** Above this p99 generator lag (ms) a run's numbers are flagged in the notes. */
export const GENERATOR_LAG_WARN_MS = 100;

export async function runCompare(options: CompareOptions = {}): Promise<CompareOutcome> {
  const mode = options.mode ?? 'full';
  const env = options.env ?? process.env;
  const log = options.log ?? ((line: string) => console.log(line));
  const cataloguePath = options.cataloguePath ?? CATALOGUE_PATH;
  const catalogue = options.catalogue ?? loadCatalogue(cataloguePath);
  const catalogueText = options.catalogue
    ? JSON.stringify(options.catalogue)
    : readFileSync(cataloguePath, 'utf8');
  const began = performance.now();
  const startedAt = new Date();
  const stamp = () => `[${((performance.now() - began) / 1000).toFixed(1).padStart(6)}s]`;
  const notes: string[] = [];

  for (const name of options.scenarios ?? []) {
    if (!catalogue.scenarios.some((s) => s.name === name)) {
      throw new Error(
        `unknown scenario "${name}"; known: ${catalogue.scenarios.map((s) => s.name).join(', ')}`,
      );
    }
  }
  const scenarios = catalogue.scenarios.filter(
    (s) => !options.scenarios?.length || options.scenarios.includes(s.name),
  );
  const wantedTargets = options.targets?.length ? options.targets : TARGET_NAMES;

  const upstreams: TestServer[] = [];
  let stack: StartedStack | null = null;
  try {
    let urls = options.urls ?? urlsFromEnv(env);
    let stackSource = 'given URLs';
    if (Object.keys(urls).length === 0) {
      const delayMs = options.aggregateDelayMs ?? Number(env.AGGREGATE_DELAY_MS ?? 1000);
      const upstreamEnv: Record<string, string> = {};
      for (const [name, variable] of Object.entries(AGGREGATE_UPSTREAMS)) {
        const server = await startDelayedUpstream(name, { delayMs });
        upstreams.push(server);
        upstreamEnv[variable] = server.url;
      }
      log(`${stamp()} started ${upstreams.length} /aggregate upstreams answering after ${delayMs} ms each`);
      stack = await (options.startStack ?? startStack)({
        env: upstreamEnv,
        log: (line) => log(`${stamp()} ${line}`),
      });
      urls = stack.urls;
      options.signal?.throwIfAborted();
      stackSource =
        stack.source === 'started' ? 'stack started by compare' : 'services found on default ports';
      if (stack.source !== 'started') {
        notes.push(
          '/aggregate upstream delays are whatever the running services are configured with (compare did not start them).',
        );
      }
    } else {
      notes.push(
        'Targets were given (URLs); /aggregate upstream delays are whatever those services are configured with.',
      );
    }
    for (const url of Object.values(urls)) if (url) new URL(url); // fail fast on a malformed URL

    const targets = wantedTargets.filter((t) => urls[t]);
    for (const t of wantedTargets) if (!urls[t]) notes.push(`${t}: no URL, skipped.`);
    if (targets.length === 0) throw new Error('no target URL to run against');
    log(`${stamp()} targets: ${targets.map((t) => `${t}=${urls[t]}`).join('  ')}`);
    const metricSources = (['legacy', 'modern'] as Target[])
      .map((t) => urls[t])
      .filter((u): u is string => !!u);

    const plan: Array<{ scenario: (typeof scenarios)[number]; target: Target }> = [];
    for (const scenario of scenarios) {
      for (const target of scenarioTargets(scenario))
        if (targets.includes(target)) plan.push({ scenario, target });
      for (const t of targets) {
        const why = scenario.notApplicable?.[t];
        if (why) notes.push(`${scenario.name} is not run against ${t}: ${why}`);
      }
    }

    if (options.warmup ?? true) {
      // Warm caches, JIT and keep-alive pools before measuring. A smoke run only needs every
      // route touched once, so it warms with a single iteration per scenario and target.
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
        for (const { scenario } of plan.filter((p) => p.target === target)) {
          const warmScenario = warm.scenarios.find((s) => s.name === scenario.name)!;
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
    for (const [i, { scenario, target }] of plan.entries()) {
      const before = await readTotalUpstreamCalls(metricSources);
      const run = await runScenario({
        catalogue,
        scenario,
        target,
        baseUrl: urls[target]!,
        mode,
        env,
        ...(options.signal ? { signal: options.signal } : {}),
      });
      options.signal?.throwIfAborted();
      const after = await readTotalUpstreamCalls(metricSources);
      run.upstreamCalls = before !== null && after !== null ? after - before : null;
      runs.push(run);
      log(
        `${stamp()} ${String(i + 1).padStart(2)}/${plan.length} ${scenario.name} → ${target}: ` +
          `${run.requests} req, ${run.throughput.toFixed(1)} req/s, p50 ${formatMs(run.latency.p50)}, ` +
          `p99 ${formatMs(run.latency.p99)}, ${run.errors} errors${run.thresholds.ok ? '' : ' (thresholds missed)'}`,
      );
    }

    const lagged = runs.filter((r) => r.generatorLag.p99 > GENERATOR_LAG_WARN_MS);
    if (lagged.length > 0) {
      const worst = Math.max(...lagged.map((r) => r.generatorLag.p99));
      notes.push(
        `The load generator started iterations late (p99 lag up to ${formatMs(worst)}) in ${lagged.length} of ${runs.length} runs: ` +
          'the machine was saturated, so those latencies describe the machine as much as the service. Re-run on a quieter machine or lower the rates.',
      );
    }
    const report: CompareReport = {
      tool: '@pilot/load-tests compare',
      mode,
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      catalogue: { path: cataloguePath, sha256: createHash('sha256').update(catalogueText).digest('hex') },
      machine: {
        node: process.version,
        platform: `${process.platform}-${process.arch}`,
        cpus: availableParallelism(),
      },
      targets: Object.fromEntries(targets.map((t) => [t, urls[t]!])),
      stackSource,
      upstreamMetric: UPSTREAM_CALL_METRICS.join(' | '),
      runs,
      ratios: computeRatios(runs),
      notes,
    };
    const files = writeReport(report, reportDir(options.reportsRoot ?? REPORTS_DIR, startedAt, mode));
    log('');
    log(resultsTable(runs));
    log('');
    log('ratios (req/s: > 1 is more throughput; p50/p99: < 1 is faster)');
    log(ratiosTable(report.ratios));
    for (const note of notes) log(`note: ${note}`);
    log('');
    log(`report: ${files.html}`);
    log(`results: ${files.json}`);
    return { report, files, problems: smokeProblems(report) };
  } finally {
    await stack?.stop();
    await Promise.all(upstreams.map((u) => u.close()));
  }
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
  }
  if (report.runs.length === 0) problems.push('no scenario ran');
  return problems;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      smoke: { type: 'boolean', default: false },
      scenario: { type: 'string', multiple: true },
      target: { type: 'string', multiple: true },
      'no-warmup': { type: 'boolean', default: false },
      strict: { type: 'boolean', default: false },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(
      'usage: pnpm compare [--smoke] [--scenario a,b] [--target legacy,modern,gateway] [--no-warmup] [--strict] [--out DIR]\n' +
        'env: LEGACY_URL MODERN_URL GATEWAY_URL (else the stack is started), VAR_<name> (catalogue vars)',
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
  // The stack's services run in their own process groups (a terminal's Ctrl-C does not reach
  // them): stop them, and the run, on SIGINT/SIGTERM.
  const interrupt = new AbortController();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      console.error(`\n${signal}: stopping the run and what it started`);
      interrupt.abort(new Error(`interrupted (${signal})`));
    });
  }
  const outcome = await runCompare({
    signal: interrupt.signal,
    mode: values.smoke ? 'smoke' : 'full',
    scenarios: split(values.scenario),
    targets: targets as Target[],
    warmup: !values['no-warmup'],
    ...(values.out ? { reportsRoot: values.out } : {}),
  });
  if (values.smoke && outcome.problems.length > 0) {
    console.error(`smoke failed:\n${outcome.problems.map((p) => `  - ${p}`).join('\n')}`);
    return 1;
  }
  if (values.strict && outcome.report.runs.some((r) => !r.thresholds.ok)) {
    console.error('thresholds missed (--strict)');
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
