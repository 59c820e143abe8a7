// The scenario catalogue (../scenarios.json): one data file shared by the k6 scripts and the
// Node runner. This module is its schema (zod) plus the cross-field rules a schema alone
// cannot say (templates only name known variables, each target is either run or explicitly
// marked not applicable, ...). The k6 side cannot import zod, so CI validates the file here.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { parseDuration, TARGETS } from '../k6/lib/core.js';

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

const scenarioSchema = z
  .object({
    name: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]*$/, 'scenario names are kebab-case (they become k6 scenario names)'),
    character: z.string().min(1),
    route: z.string().min(1),
    targets: z.array(target).min(1),
    notApplicable: z.partialRecord(target, z.string().min(1)).optional(),
    load: loadSchema,
    smoke: shortRunSchema.optional(),
    warmup: shortRunSchema.optional(),
    steps: z.array(stepSchema).min(1),
    thresholds: thresholdsSchema.optional(),
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
    catalogue.scenarios.forEach((scenario, i) => {
      const at = (...path: (string | number)[]) => ['scenarios', i, ...path];
      if (names.has(scenario.name)) {
        ctx.addIssue({
          code: 'custom',
          path: at('name'),
          message: `duplicate scenario name "${scenario.name}"`,
        });
      }
      names.add(scenario.name);
      // Every target is either run or explicitly marked not applicable, with a reason.
      for (const t of TARGET_NAMES) {
        const runs = scenario.targets.includes(t);
        const excused = scenario.notApplicable?.[t] !== undefined;
        if (!runs && !excused) {
          ctx.addIssue({
            code: 'custom',
            path: at('targets'),
            message: `target "${t}" is neither in targets nor in notApplicable (say why it is skipped)`,
          });
        }
        if (runs && excused) {
          ctx.addIssue({
            code: 'custom',
            path: at('notApplicable', t),
            message: `target "${t}" is in both lists`,
          });
        }
      }
      if (new Set(scenario.targets).size !== scenario.targets.length) {
        ctx.addIssue({ code: 'custom', path: at('targets'), message: 'duplicate target' });
      }
      // Templates may only name builtins, catalogue vars, or captures of an earlier step.
      const captured = new Set<string>();
      const stepNames = new Set<string>();
      scenario.steps.forEach((step, j) => {
        if (stepNames.has(step.name)) {
          ctx.addIssue({
            code: 'custom',
            path: at('steps', j, 'name'),
            message: `duplicate step "${step.name}"`,
          });
        }
        stepNames.add(step.name);
        for (const expr of templateExpressions([step.path, step.headers, step.body])) {
          if (BUILTIN_TEMPLATES.has(expr) || expr.startsWith('cycle:')) continue;
          if (captured.has(expr) || Object.hasOwn(catalogue.vars, expr)) continue;
          ctx.addIssue({
            code: 'custom',
            path: at('steps', j),
            message: `unknown template variable {{${expr}}} (not a builtin, a var, or a capture of an earlier step)`,
          });
        }
        for (const name of Object.keys(step.capture ?? {})) captured.add(name);
      });
      const load = scenario.load;
      if (
        load.executor !== 'constant-vus' &&
        load.maxVUs &&
        load.preAllocatedVUs &&
        load.maxVUs < load.preAllocatedVUs
      ) {
        ctx.addIssue({
          code: 'custom',
          path: at('load', 'maxVUs'),
          message: 'maxVUs must be ≥ preAllocatedVUs',
        });
      }
    });
  });

export type Catalogue = z.infer<typeof catalogueSchema>;
export type Scenario = Catalogue['scenarios'][number];
export type Step = Scenario['steps'][number];
export type Load = Scenario['load'];

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

/** Validates a parsed catalogue; throws CatalogueError naming every bad field. */
export function parseCatalogue(data: unknown, source = 'catalogue'): Catalogue {
  const result = catalogueSchema.safeParse(data);
  if (!result.success) {
    throw new CatalogueError(`${source} is invalid:\n${z.prettifyError(result.error)}`);
  }
  return result.data;
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
