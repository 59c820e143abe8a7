export {
  type Catalogue,
  CATALOGUE_PATH,
  CatalogueError,
  catalogueSchema,
  loadCatalogue,
  parseCatalogue,
  type Scenario,
  type Step,
  type Target,
} from './catalogue.ts';
export { type CompareOptions, type CompareOutcome, runCompare, smokeProblems } from './compare.ts';
export { exactPercentile, LatencyHistogram, type LatencySummary } from './histogram.ts';
export { BACKEND_HEADERS, sumCounter, UPSTREAM_CALL_METRICS } from './metrics.ts';
export { arrivalOffsetsMs, expectedIterations } from './pacing.ts';
export { type CompareReport, writeReport } from './report.ts';
export { type RunOptions, type RunResult, runScenario } from './runner.ts';
export { DEFAULT_URLS, type StackStarter, type StartedStack, startStack } from './stack.ts';
