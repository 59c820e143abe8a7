// `pnpm report <file>...`: renders results into the same report.html, results.json and
// summary.txt as `pnpm compare`. A file may be
//   - a results.json (schema pilot-load-results/2): from compare, or from k6/run.js's
//     handleSummary (k6-results-<target>.json);
//   - a raw k6 summary: the `data` handleSummary receives (give --target, and --smoke if it
//     was a smoke run, so the scenario layout can be rebuilt from the catalogue).
// Several files (say, k6 runs against legacy, modern and the gateway) become one report with
// the targets side by side and their ratios.
//
//   pnpm report reports/k6/k6-results-legacy.json reports/k6/k6-results-modern.json
//   pnpm report k6-summary.json --target modern [--smoke] [--out DIR]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { buildK6Options } from '../k6/lib/core.js';
import { k6Results } from '../k6/lib/results.js';
import { fromCaller } from './caller-path.ts';
import { CATALOGUE_PATH, loadCatalogue, type Target, TARGET_NAMES } from './catalogue.ts';
import { type CompareReport, RESULTS_SCHEMA, type RunResult } from './model.ts';
import { REPORTS_DIR, reportDir, summaryText, type WrittenReport, writeReport } from './report.ts';
import { computeRatios, summarize } from './summary.ts';

export class ReportInputError extends Error {
  readonly code = 'REPORT_INPUT_INVALID';
}

export interface ReadOptions {
  /** Target of a raw k6 summary. */
  target?: Target;
  /** Whether a raw k6 summary was a smoke run. */
  smoke?: boolean;
  cataloguePath?: string;
}

interface K6SummaryData {
  metrics: Record<string, { values: Record<string, number> }>;
  state?: { testRunDurationMs?: number };
}

const SCENARIO_KEY = /^pilot_(?:latency|errors|iterations|unverified)\{scenario:([^,}]+)[,}]/;
const SERVICE_KEY = /^pilot_proc_cpu\{of:[^,}]+,service:([^,}]+)\}$/;

/** The results of a raw k6 summary, rebuilt with the catalogue's layout for that run. */
export function fromK6Summary(data: K6SummaryData, options: ReadOptions, source: string): CompareReport {
  if (!options.target)
    throw new ReportInputError(
      `${source} is a raw k6 summary: say which target it ran against (--target legacy|modern|gateway)`,
    );
  const names = new Set<string>();
  const services: Record<string, string> = {};
  for (const key of Object.keys(data.metrics)) {
    const scenario = SCENARIO_KEY.exec(key);
    if (scenario) names.add(scenario[1]!);
    const service = SERVICE_KEY.exec(key);
    if (service) services[service[1]!] = 'its /metrics';
  }
  if (names.size === 0)
    throw new ReportInputError(
      `${source} has no pilot_* metrics: it is not a summary of load-tests/k6/run.js`,
    );
  const catalogue = loadCatalogue(options.cataloguePath ?? CATALOGUE_PATH);
  for (const name of names) {
    if (!catalogue.scenarios.some((s) => s.name === name))
      throw new ReportInputError(`${source} ran scenario "${name}", which the catalogue does not have`);
  }
  const mode = options.smoke ? 'smoke' : 'full';
  const built = buildK6Options(catalogue, { target: options.target, mode, only: [...names] });
  return k6Results(data as never, {
    target: options.target,
    baseUrl: '(from the k6 summary)',
    mode,
    catalogue,
    layout: built.layout,
    cataloguePath: options.cataloguePath ?? CATALOGUE_PATH,
    services,
  }) as unknown as CompareReport;
}

/** Reads one input file into results. */
export function readResults(file: string, options: ReadOptions = {}): CompareReport {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ReportInputError(`cannot read ${file}: ${(error as Error).message}`);
  }
  const value = data as Record<string, unknown>;
  if (value && value.schema === RESULTS_SCHEMA && Array.isArray(value.runs))
    return value as unknown as CompareReport;
  if (value && typeof value.metrics === 'object' && value.metrics !== null)
    return fromK6Summary(value as unknown as K6SummaryData, options, file);
  // The summary file of earlier k6/run.js versions: { target, mode, scenarios, k6: data }.
  if (value && typeof value.k6 === 'object' && value.k6 !== null && typeof value.target === 'string') {
    return fromK6Summary(
      value.k6 as K6SummaryData,
      { ...options, target: value.target as Target, smoke: value.mode === 'smoke' },
      file,
    );
  }
  throw new ReportInputError(
    `${file} is neither a results.json (schema ${RESULTS_SCHEMA}) nor a k6 summary of load-tests/k6/run.js`,
  );
}

/** Several results as one report: targets side by side, summaries and ratios recomputed. */
export function mergeResults(reports: CompareReport[], files: string[]): CompareReport {
  if (reports.length === 1) return reports[0]!;
  const engines = new Set(reports.map((r) => r.engine));
  if (engines.size > 1)
    throw new ReportInputError(
      'these files come from different engines (k6 and the Node runner): their latencies are not measured the same way; compare them with pnpm compare --baseline instead',
    );
  const runs: RunResult[] = reports.flatMap((r) => r.runs);
  const seen = new Set<string>();
  for (const run of runs) {
    const key = `${run.scenario} → ${run.target} (round ${run.round})`;
    if (seen.has(key)) throw new ReportInputError(`${key} is in more than one file`);
    seen.add(key);
  }
  const summaries = summarize(runs);
  const first = reports[0]!;
  return {
    ...first,
    kinds: [...new Set(reports.flatMap((r) => r.kinds))],
    startedAt: reports.map((r) => r.startedAt).sort()[0] ?? '',
    finishedAt:
      reports
        .map((r) => r.finishedAt)
        .sort()
        .at(-1) ?? '',
    targets: Object.assign({}, ...reports.map((r) => r.targets)),
    stackSource: `${reports.length} runs merged: ${files.join(', ')}`,
    rounds: Math.max(...reports.map((r) => r.rounds)),
    runs,
    summaries,
    ratios: computeRatios(summaries, runs),
    notes: [...new Set(reports.flatMap((r) => r.notes))],
  };
}

export function renderReport(
  files: string[],
  options: ReadOptions & { out?: string; now?: Date } = {},
): { report: CompareReport; written: WrittenReport } {
  if (files.length === 0) throw new ReportInputError('usage: pnpm report <results.json | k6 summary>...');
  const report = mergeResults(
    files.map((f) => readResults(f, options)),
    files,
  );
  // A results.json written by k6 carries k6's raw summary: not needed in the rendered copy.
  const { k6Summary: _raw, ...clean } = report as CompareReport & { k6Summary?: unknown };
  const written = writeReport(
    clean,
    options.out ?? reportDir(REPORTS_DIR, options.now ?? new Date(), report.mode, `-${report.engine}`),
  );
  return { report: clean, written };
}

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      target: { type: 'string' },
      smoke: { type: 'boolean', default: false },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help || positionals.length === 0) {
    console.log(
      'usage: pnpm report <results.json | k6-results-<target>.json | raw k6 summary>... [--target legacy|modern|gateway] [--smoke] [--out DIR]',
    );
    return values.help ? 0 : 1;
  }
  if (values.target && !TARGET_NAMES.includes(values.target as Target))
    throw new ReportInputError(`unknown target "${values.target}"`);
  const { report, written } = renderReport(
    positionals.map((p) => fromCaller(p)),
    {
      ...(values.target ? { target: values.target as Target } : {}),
      smoke: values.smoke,
      ...(values.out ? { out: fromCaller(values.out) } : {}),
    },
  );
  console.log(summaryText(report));
  console.log(`report: ${written.html}`);
  console.log(`results: ${written.json}`);
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
