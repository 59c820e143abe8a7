// The scenario catalogue (../scenarios.json): one data file shared by the k6 scripts and the
// Node runner. This module is its schema (zod) plus the cross-field rules a schema alone
// cannot say (templates only name known variables, each target is either run or explicitly
// marked not applicable, ...). The k6 side cannot import zod, so CI validates the file here.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { parseDuration, TARGETS } from '../k6/lib/core.js';
import { KINDS, resolveCatalogue } from '../k6/lib/kinds.js';

export const CATALOGUE_PATH = join(import.meta.dirname, '..', 'scenarios.json');

export type Target = 'legacy' | 'modern' | 'gateway';
export const TARGET_NAMES = TARGETS as Target[];

/** Template expressions that need no var or capture (see renderTemplate in k6/lib/core.js). */
const BUILTIN_TEMPLATES = new Set(['uuid', 'vu', 'iter']);

const duration = z.string().refine(
  (value) => {
    try {
      return parseDuration(value) > 0;
    } catch {
      return false;
    }
  },
  { message: 'expected a positive k6 duration such as "500ms", "3s" or "1m30s"' },
);
const target = z.enum(['legacy', 'modern', 'gateway']);
const rate = z.number().positive().max(100_000);
const vus = z.number().int().positive().max(10_000);

const thresholdsSchema = z
  .object({
    p95Ms: z.number().positive(),
    p99Ms: z.number().positive(),
    errorRate: z.number().min(0).max(1),
  })
  .strict()
  .refine((t) => t.p95Ms <= t.p99Ms, { message: 'p95Ms must not exceed p99Ms' });

const shortRunSchema = z.object({ rate, duration }).strict();

const loadSchema = z.discriminatedUnion('executor', [
  z
    .object({
      executor: z.literal('constant-arrival-rate'),
      rate,
      duration,
      preAllocatedVUs: vus.optional(),
      maxVUs: vus.optional(),
    })
    .strict(),
  z
    .object({
      executor: z.literal('ramping-arrival-rate'),
      startRate: z.number().min(0),
      stages: z.array(z.object({ target: z.number().min(0), duration }).strict()).min(1),
      preAllocatedVUs: vus.optional(),
      maxVUs: vus.optional(),
    })
    .strict(),
  z.object({ executor: z.literal('constant-vus'), vus, duration }).strict(),
]);

const stepSchema = z
  .object({
    name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'step names are kebab-case'),
    method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD']),
    path: z.string().startsWith('/', 'paths start with "/" (the target URL is prepended)'),
    headers: z.record(z.string(), z.string()).optional(),
    body: z.unknown().optional(),
    timeout: duration.optional(),
    sse: z.object({ hold: duration }).strict().optional(),
    expect: z
      .object({
        status: z.array(z.number().int().min(100).max(599)).min(1),
        contentType: z.string().min(1).optional(),
      })
      .strict(),
    capture: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.string().min(1)).optional(),
  })
  .strict()
  .refine((step) => !step.sse || step.method === 'GET', { message: 'an sse step must be a GET' });

const capacitySchema = z
  .object({
    startRate: rate,
    factor: z.number().gt(1).max(10),
    steps: z.number().int().min(2).max(30),
    stepDuration: duration,
    maxVUs: vus.optional(),
    overshoot: z.number().int().min(0).max(5).optional(),
    generatorLagMs: z.number().positive().optional(),
  })
  .strict();

const soakSchema = z
  .object({
    rate,
    duration,
    window: duration,
    leakBoundMb: z.number().positive(),
    maxP99Drift: z.number().min(1),
    maxVUs: vus.optional(),
  })
  .strict();

const spikeSchema = z
  .object({
    baseRate: rate,
    factor: z.number().gt(1).max(100),
    before: duration,
    spike: duration,
    after: duration,
    maxVUs: vus.optional(),
  })
  .strict();

export const KIND_NAMES = KINDS as Kind[];

// One object for every kind: which fields a kind needs is checked below with messages that
// name the kind, which reads better than a union's "no variant matched".
const scenarioSchema = z
  .object({
    name: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]*$/, 'scenario names are kebab-case (they become k6 scenario names)'),
    kind: z.enum(['fixed', 'capacity', 'soak', 'spike']).optional(),
    of: z.string().optional(),
    character: z.string().min(1).optional(),
    route: z.string().min(1).optional(),
    targets: z.array(target).min(1).optional(),
    notApplicable: z.partialRecord(target, z.string().min(1)).optional(),
    load: loadSchema.optional(),
    smoke: shortRunSchema.optional(),
    warmup: shortRunSchema.optional(),
    steps: z.array(stepSchema).min(1).optional(),
    thresholds: thresholdsSchema.optional(),
    capacity: capacitySchema.optional(),
    soak: soakSchema.optional(),
    spike: spikeSchema.optional(),
  })
  .strict();

export const catalogueSchema = z
  .object({
    version: z.literal(1),
    description: z.string().optional(),
    vars: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/), z.union([z.string(), z.number()])),
    defaults: z
      .object({
        timeout: duration,
        gracefulStop: duration,
        warmup: shortRunSchema,
        smoke: shortRunSchema,
        thresholds: thresholdsSchema,
      })
      .strict(),
    scenarios: z.array(scenarioSchema).min(1),
  })
  .strict()
  .superRefine((catalogue, ctx) => {
    const names = new Set<string>();
    const fixed = new Map<string, RawScenario>();
    for (const scenario of catalogue.scenarios)
      if ((scenario.kind ?? 'fixed') === 'fixed') fixed.set(scenario.name, scenario);
    catalogue.scenarios.forEach((scenario, i) => {
      const at = (...path: (string | number)[]) => ['scenarios', i, ...path];
      const issue = (message: string, ...path: (string | number)[]) =>
        ctx.addIssue({ code: 'custom', path: at(...path), message });
      if (names.has(scenario.name)) issue(`duplicate scenario name "${scenario.name}"`, 'name');
      names.add(scenario.name);
      const kind = scenario.kind ?? 'fixed';
      const blocks = ['capacity', 'soak', 'spike'] as const;
      for (const block of blocks) {
        if (scenario[block] && block !== kind)
          issue(`a "${block}" block belongs to kind "${block}" only`, block);
      }
      let base: RawScenario | undefined;
      if (kind === 'fixed') {
        for (const field of ['character', 'route', 'targets', 'load', 'steps'] as const) {
          if (scenario[field] === undefined) issue(`a fixed scenario needs "${field}"`, field);
        }
        if (scenario.of !== undefined) issue('"of" is for capacity, soak and spike scenarios', 'of');
      } else {
        base = scenario.of ? fixed.get(scenario.of) : undefined;
        if (!base) {
          issue(
            `a ${kind} scenario names the fixed scenario it loads with "of" (one of: ${[...fixed.keys()].join(', ')})`,
            'of',
          );
        }
        if (!scenario[kind]) issue(`a ${kind} scenario needs a "${kind}" block`, kind);
        for (const field of ['route', 'load', 'steps'] as const) {
          if (scenario[field] !== undefined)
            issue(`a ${kind} scenario takes "${field}" from the scenario it names ("of")`, field);
        }
      }
      const targets = scenario.targets ?? base?.targets ?? [];
      const notApplicable = scenario.notApplicable ?? base?.notApplicable;
      if (base && scenario.targets) {
        for (const t of scenario.targets)
          if (!base.targets?.includes(t)) issue(`target "${t}" is not a target of "${base.name}"`, 'targets');
      }
      // Every target is either run or explicitly marked not applicable, with a reason.
      if (kind === 'fixed' || scenario.targets || scenario.notApplicable) {
        for (const t of TARGET_NAMES) {
          const runs = targets.includes(t);
          const excused = notApplicable?.[t] !== undefined;
          if (!runs && !excused)
            issue(
              `target "${t}" is neither in targets nor in notApplicable (say why it is skipped)`,
              'targets',
            );
          if (runs && excused) issue(`target "${t}" is in both lists`, 'notApplicable', t);
        }
      }
      if (new Set(targets).size !== targets.length) issue('duplicate target', 'targets');
      // Templates may only name builtins, catalogue vars, or captures of an earlier step.
      const captured = new Set<string>();
      const stepNames = new Set<string>();
      (scenario.steps ?? []).forEach((step, j) => {
        if (stepNames.has(step.name)) issue(`duplicate step "${step.name}"`, 'steps', j, 'name');
        stepNames.add(step.name);
        for (const expr of templateExpressions([step.path, step.headers, step.body])) {
          if (BUILTIN_TEMPLATES.has(expr) || expr.startsWith('cycle:')) continue;
          if (captured.has(expr) || Object.hasOwn(catalogue.vars, expr)) continue;
          issue(
            `unknown template variable {{${expr}}} (not a builtin, a var, or a capture of an earlier step)`,
            'steps',
            j,
          );
        }
        for (const name of Object.keys(step.capture ?? {})) captured.add(name);
      });
      const load = scenario.load;
      if (
        load &&
        load.executor !== 'constant-vus' &&
        load.maxVUs &&
        load.preAllocatedVUs &&
        load.maxVUs < load.preAllocatedVUs
      ) {
        issue('maxVUs must be ≥ preAllocatedVUs', 'load', 'maxVUs');
      }
      // Little's law: at `rate` iterations/s that each take up to the p99 limit, about
      // rate × p99 virtual users are busy. With fewer, arrivals are dropped while latency is
      // still within the SLO, and the drops would be read as the target's failure.
      const p99Ms = (scenario.thresholds ?? base?.thresholds ?? catalogue.defaults.thresholds).p99Ms;
      const needVUs = (peak: number, maxVUs: number | undefined, field: string) => {
        const need = Math.ceil((peak * p99Ms) / 1000);
        if ((maxVUs ?? 100) < need) {
          issue(
            `maxVUs ${maxVUs ?? 100} is below peak rate × p99 limit (${peak}/s × ${p99Ms} ms = ${need}): ` +
              'arrivals would be dropped while the target still meets the SLO',
            field,
            'maxVUs',
          );
        }
      };
      if (scenario.capacity) {
        const c = scenario.capacity;
        needVUs(c.startRate * c.factor ** (c.steps - 1), c.maxVUs, 'capacity');
      }
      if (scenario.spike)
        needVUs(scenario.spike.baseRate * scenario.spike.factor, scenario.spike.maxVUs, 'spike');
      if (scenario.soak) {
        const windows = parseDuration(scenario.soak.duration) / parseDuration(scenario.soak.window);
        if (windows < 2) issue('a soak needs at least two windows (window ≤ duration / 2)', 'soak', 'window');
        needVUs(scenario.soak.rate, scenario.soak.maxVUs, 'soak');
      }
    });
  });

type RawCatalogue = z.infer<typeof catalogueSchema>;
type RawScenario = RawCatalogue['scenarios'][number];

export type Kind = 'fixed' | 'capacity' | 'soak' | 'spike';
export type Step = NonNullable<RawScenario['steps']>[number];
export type Load = NonNullable<RawScenario['load']>;
export type CapacityPlan = z.infer<typeof capacitySchema>;
export type SoakPlan = z.infer<typeof soakSchema>;
export type SpikePlan = z.infer<typeof spikeSchema>;

/** A scenario as the engines see it: kind scenarios completed from the one they name (`of`). */
export interface Scenario {
  name: string;
  kind?: Kind;
  of?: string;
  character: string;
  route: string;
  targets: Target[];
  notApplicable?: Partial<Record<Target, string>>;
  load: Load;
  smoke?: { rate: number; duration: string };
  warmup?: { rate: number; duration: string };
  steps: Step[];
  thresholds?: { p95Ms: number; p99Ms: number; errorRate: number };
  capacity?: CapacityPlan;
  soak?: SoakPlan;
  spike?: SpikePlan;
}

export interface Catalogue {
  version: 1;
  description?: string;
  vars: Record<string, string | number>;
  defaults: RawCatalogue['defaults'];
  scenarios: Scenario[];
}

/** Every `{{expr}}` inside strings of a JSON-like value. */
export function templateExpressions(value: unknown): string[] {
  const found: string[] = [];
  const visit = (v: unknown): void => {
    if (typeof v === 'string') {
      for (const match of v.matchAll(/\{\{\s*([^}]+?)\s*\}\}/g)) found.push(match[1]!);
    } else if (Array.isArray(v)) {
      v.forEach(visit);
    } else if (v !== null && typeof v === 'object') {
      Object.values(v).forEach(visit);
    }
  };
  visit(value);
  return found;
}

export class CatalogueError extends Error {
  readonly code = 'CATALOGUE_INVALID';
}

/**
 * Validates a parsed catalogue and completes its kind scenarios from the ones they name;
 * throws CatalogueError naming every bad field.
 */
export function parseCatalogue(data: unknown, source = 'catalogue'): Catalogue {
  const result = catalogueSchema.safeParse(data);
  if (!result.success) {
    throw new CatalogueError(`${source} is invalid:\n${z.prettifyError(result.error)}`);
  }
  return resolveCatalogue(result.data as never) as Catalogue;
}

export function loadCatalogue(path = CATALOGUE_PATH): Catalogue {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new CatalogueError(`cannot read ${path}: ${(error as Error).message}`);
  }
  return parseCatalogue(data, path);
}

export function scenarioTargets(scenario: Scenario): Target[] {
  return TARGET_NAMES.filter((t) => scenario.targets.includes(t));
}
