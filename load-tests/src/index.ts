export { compareWithBaseline, loadBaseline } from './baseline.ts';
export {
  type Catalogue,
  CATALOGUE_PATH,
  CatalogueError,
  catalogueSchema,
  type Kind,
  loadCatalogue,
  parseCatalogue,
  type Scenario,
  type Step,
  type Target,
} from './catalogue.ts';
export { type CompareOptions, type CompareOutcome, runCompare, smokeProblems } from './compare.ts';
export { PATHS, type RunCost } from './cost.ts';
export { exactPercentile, LatencyHistogram, type LatencySummary } from './histogram.ts';
export { BACKEND_HEADERS, PROCESS_METRICS, sumCounter, UPSTREAM_CALL_METRICS } from './metrics.ts';
export type { CompareReport, RunResult } from './model.ts';
export { createMonitor, type ResourceMonitor } from './monitor.ts';
export { arrivalOffsetsMs, expectedIterations } from './pacing.ts';
export { writeReport } from './report.ts';
export { type RunOptions, runScenario } from './runner.ts';
export { DEFAULT_URLS, resolveTargets, type StackStarter, type StartedStack } from './stack.ts';
