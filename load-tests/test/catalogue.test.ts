import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildK6Options, isStreaming, loadFor } from '../k6/lib/core.js';
import { capacityRates, iterationsBetween, phasesFor } from '../k6/lib/kinds.js';
import {
  type Catalogue,
  CATALOGUE_PATH,
  CatalogueError,
  loadCatalogue,
  parseCatalogue,
  templateExpressions,
} from '../src/catalogue.ts';
import { arrivalOffsetsMs } from '../src/pacing.ts';

const shipped = loadCatalogue();
/** The catalogue as written (kind scenarios not yet completed from the ones they name). */
const clone = (): Catalogue => JSON.parse(readFileSync(CATALOGUE_PATH, 'utf8')) as Catalogue;
const scenarioNamed = (c: Catalogue, name: string) => c.scenarios.find((s) => s.name === name)!;

function invalid(mutate: (c: Catalogue) => void): string {
  const c = clone();
  mutate(c);
  try {
    parseCatalogue(c);
  } catch (error) {
    expect(error).toBeInstanceOf(CatalogueError);
    return (error as Error).message;
  }
  throw new Error('expected the catalogue to be rejected');
}

describe('the shipped catalogue (scenarios.json)', () => {
  it('is valid', () => {
    expect(shipped.scenarios.length).toBeGreaterThanOrEqual(7);
  });

  it('covers every route character of the design', () => {
    const byRoute = (route: string) =>
      shipped.scenarios.filter((s) => (!s.kind || s.kind === 'fixed') && s.route.includes(route));
    expect(byRoute('GET /articles/:slug')).toHaveLength(1);
    const list = shipped.scenarios.find((s) => s.route === 'GET /articles')!;
    expect(list.steps[0]!.path).toMatch(/page=.*pageSize=10/);
    const writes = byRoute('POST /subscribers');
    expect(writes.map((s) => s.steps[0]!.expect.status)).toEqual(expect.arrayContaining([[422]]));
    const accepted = writes.find((s) => !s.steps[0]!.expect.status.includes(422))!;
    expect(JSON.stringify(accepted.steps[0]!.body)).toContain('{{uuid}}');
    expect(byRoute('GET /aggregate')).toHaveLength(1);
    const auth = byRoute('/auth/refresh')[0]!;
    expect(auth.steps.map((s) => s.path)).toEqual(['/auth/login', '/auth/refresh', '/me']);
    const sse = byRoute('GET /events')[0]!;
    expect(sse.targets).toEqual(['modern', 'gateway']);
    expect(sse.notApplicable?.legacy).toMatch(/legacy/);
  });

  it('gives every scenario load, smoke settings and thresholds', () => {
    for (const s of shipped.scenarios) {
      const t = s.thresholds ?? shipped.defaults.thresholds;
      expect(t.p95Ms).toBeLessThanOrEqual(t.p99Ms);
      expect(loadFor(shipped, s, 'smoke').executor).toMatch(/arrival-rate/);
      expect(loadFor(shipped, s, 'warmup').executor).toBe('constant-arrival-rate');
      expect(s.load.executor).toMatch(/arrival-rate/);
    }
  });

  it('has capacity runs for the cached read, the list, the validated write and the fan-out, and a soak and a spike', () => {
    const capacity = shipped.scenarios.filter((s) => s.kind === 'capacity').map((s) => s.of);
    expect(capacity).toEqual(
      expect.arrayContaining(['cached-read', 'list-paging', 'write-rejected', 'aggregate-fanout']),
    );
    const soak = shipped.scenarios.find((s) => s.kind === 'soak')!;
    expect(soak.soak).toMatchObject({ duration: '10m' });
    expect(soak.soak!.leakBoundMb).toBeGreaterThan(0);
    const spike = shipped.scenarios.find((s) => s.kind === 'spike')!;
    expect(spike.spike).toMatchObject({ factor: 10, spike: '10s' });
  });

  it('keeps a full capacity run of the catalogue bounded (well under 5 minutes for three targets)', () => {
    let totalMs = 0;
    for (const s of shipped.scenarios.filter((x) => x.kind === 'capacity')) {
      const phases = phasesFor(shipped, s, 'full');
      totalMs += phases.at(-1)!.endMs * s.targets.length;
    }
    expect(totalMs).toBeLessThan(4 * 60_000);
  });
});

describe('scenario kinds', () => {
  it('a kind scenario takes requests, targets and thresholds from the fixed one it names', () => {
    const cap = scenarioNamed(shipped, 'cached-read-capacity');
    const base = scenarioNamed(shipped, 'cached-read');
    expect(cap.steps).toEqual(base.steps);
    expect(cap.targets).toEqual(base.targets);
    expect(cap.thresholds).toEqual(base.thresholds);
    expect(cap.route).toBe(base.route);
    const fanout = scenarioNamed(shipped, 'aggregate-fanout-capacity');
    expect(fanout.thresholds!.p99Ms).toBeGreaterThan(
      scenarioNamed(shipped, 'aggregate-fanout').thresholds!.p99Ms,
    );
  });

  it('capacity: stepped rates held for stepDuration each, jumps in no time; phases line up with the arrivals', () => {
    const cap = scenarioNamed(shipped, 'cached-read-capacity');
    const plan = cap.capacity!;
    const rates = capacityRates(plan);
    expect(rates).toHaveLength(plan.steps);
    expect(rates[0]).toBe(plan.startRate);
    for (let i = 1; i < rates.length; i++) expect(rates[i]!).toBeGreaterThan(rates[i - 1]!);
    const load = loadFor(shipped, cap, 'full');
    expect(load.executor).toBe('ramping-arrival-rate');
    const phases = phasesFor(shipped, cap, 'full');
    expect(phases.map((p) => p.rate)).toEqual(rates);
    // the schedule offers each step's rate × its duration, counted the same way by both engines
    const offsets = arrivalOffsetsMs(load as never);
    for (const p of phases) {
      const inPhase = offsets.filter((o) => o >= p.startMs && o < p.endMs).length;
      expect(inPhase).toBe(iterationsBetween(load, p.startMs, p.endMs));
      expect(inPhase).toBeCloseTo((p.rate * (p.endMs - p.startMs)) / 1000, -1);
    }
    // smoke: two short steps
    expect(phasesFor(shipped, cap, 'smoke')).toHaveLength(2);
  });

  it('spike: base, factor× for the spike, base again', () => {
    const spike = scenarioNamed(shipped, 'cached-read-spike');
    const phases = phasesFor(shipped, spike, 'full');
    expect(phases.map((p) => p.name)).toEqual(['before', 'spike', 'after']);
    expect(phases[1]!.rate).toBe(phases[0]!.rate * 10);
    expect(phases[1]!.endMs - phases[1]!.startMs).toBe(10_000);
    const load = loadFor(shipped, spike, 'full');
    expect(iterationsBetween(load, phases[1]!.startMs, phases[1]!.endMs)).toBe(phases[1]!.rate * 10);
  });

  it('soak: one rate, windows over the whole run', () => {
    const soak = scenarioNamed(shipped, 'list-paging-soak');
    const phases = phasesFor(shipped, soak, 'full');
    expect(phases).toHaveLength(20);
    expect(phases.at(-1)!.endMs).toBe(600_000);
    expect(phasesFor(shipped, soak, 'smoke').at(-1)!.endMs).toBeLessThanOrEqual(5000);
  });

  it('rejects a kind scenario without its block, naming a non-fixed scenario, or overriding requests', () => {
    expect(
      invalid((c) => {
        delete scenarioNamed(c, 'cached-read-capacity').capacity;
      }),
    ).toMatch(/a capacity scenario needs a "capacity" block/);
    expect(
      invalid((c) => {
        scenarioNamed(c, 'cached-read-capacity').of = 'cached-read-spike';
      }),
    ).toMatch(/names the fixed scenario it loads with "of"/);
    expect(
      invalid((c) => {
        scenarioNamed(c, 'cached-read-capacity').steps = scenarioNamed(c, 'cached-read').steps;
      }),
    ).toMatch(/takes "steps" from the scenario it names/);
    expect(
      invalid((c) => {
        scenarioNamed(c, 'cached-read').capacity = scenarioNamed(c, 'cached-read-capacity').capacity;
      }),
    ).toMatch(/belongs to kind "capacity" only/);
  });

  it("rejects too few virtual users for the peak rate at the p99 limit (Little's law)", () => {
    expect(
      invalid((c) => {
        scenarioNamed(c, 'cached-read-capacity').capacity!.maxVUs = 50;
      }),
    ).toMatch(/maxVUs 50 is below peak rate × p99 limit/);
  });
});

describe('catalogue validation', () => {
  it('rejects an unknown template variable and names the step', () => {
    const message = invalid((c) => {
      scenarioNamed(c, 'cached-read').steps[0]!.path = '/articles/{{slgu}}';
    });
    expect(message).toMatch(/unknown template variable \{\{slgu\}\}/);
    expect(message).toMatch(/scenarios\[0\]\.steps\[0\]/);
  });

  it('rejects a capture used before the step that captures it', () => {
    const message = invalid((c) => {
      const auth = scenarioNamed(c, 'auth-refresh');
      auth.steps = [auth.steps[1]!, auth.steps[0]!];
    });
    expect(message).toMatch(/\{\{refreshToken\}\}/);
  });

  it('demands a reason for every target that is not run', () => {
    expect(
      invalid((c) => {
        delete scenarioNamed(c, 'sse-subscribe').notApplicable;
      }),
    ).toMatch(/"legacy" is neither in targets nor in notApplicable/);
    expect(
      invalid((c) => {
        scenarioNamed(c, 'sse-subscribe').targets.push('legacy');
      }),
    ).toMatch(/in both lists/);
  });

  it('rejects bad durations, inverted thresholds, duplicates and a streaming POST', () => {
    expect(
      invalid((c) => {
        (c.scenarios[0]!.load as { duration: string }).duration = '20 seconds';
      }),
    ).toMatch(/k6 duration/);
    expect(
      invalid((c) => {
        c.scenarios[0]!.thresholds = { p95Ms: 500, p99Ms: 100, errorRate: 0 };
      }),
    ).toMatch(/p95Ms must not exceed p99Ms/);
    expect(
      invalid((c) => {
        c.scenarios[1]!.name = c.scenarios[0]!.name;
      }),
    ).toMatch(/duplicate scenario name/);
    expect(
      invalid((c) => {
        scenarioNamed(c, 'sse-subscribe').steps[0]!.method = 'POST';
      }),
    ).toMatch(/sse step must be a GET/);
    expect(
      invalid((c) => {
        (c.scenarios[0] as unknown as Record<string, unknown>).rps = 5;
      }),
    ).toMatch(/rps/);
  });

  it('finds template expressions anywhere in a value', () => {
    expect(templateExpressions(['/a/{{x}}', { h: 'Bearer {{ token }}', n: [1, '{{cycle:1,2}}'] }])).toEqual([
      'x',
      'token',
      'cycle:1,2',
    ]);
  });
});

describe('k6 options built from the catalogue', () => {
  it('one k6 scenario per applicable catalogue scenario, sequenced, with catalogue thresholds', () => {
    const legacy = buildK6Options(shipped, { target: 'legacy', mode: 'full', kinds: ['fixed'] });
    expect(legacy.order).not.toContain('sse-subscribe');
    expect(legacy.order).toHaveLength(
      shipped.scenarios.filter((s) => !s.kind || s.kind === 'fixed').length - 1,
    );
    const cached = legacy.scenarios['cached-read']!;
    expect(cached).toMatchObject({
      executor: 'constant-arrival-rate',
      rate: 200,
      timeUnit: '1s',
      duration: '15s',
    });
    expect(cached.tags).toEqual({ route: 'GET /articles/:slug', target: 'legacy' });
    expect(legacy.thresholds['pilot_latency{scenario:cached-read}']).toEqual(['p(95)<50', 'p(99)<150']);
    expect(legacy.thresholds['pilot_errors{scenario:cached-read}']).toEqual(['rate<=0.01']);
    const starts = legacy.order.map((name) => legacy.scenarios[name]!.startTime as string);
    expect(starts[0]).toBe('0s');
    expect(new Set(starts).size).toBe(starts.length);
    const ramp = legacy.scenarios['auth-refresh']!;
    expect(ramp).toMatchObject({ executor: 'ramping-arrival-rate', startRate: 1, timeUnit: '1s' });
  });

  it('streams get only the error-rate threshold in k6; smoke mode shortens every scenario', () => {
    const gateway = buildK6Options(shipped, {
      target: 'gateway',
      mode: 'smoke',
      only: ['sse-subscribe', 'cached-read'],
    });
    expect(gateway.order).toEqual(['cached-read', 'sse-subscribe']);
    expect(isStreaming(scenarioNamed(shipped, 'sse-subscribe'))).toBe(true);
    expect(gateway.thresholds['pilot_latency{scenario:sse-subscribe}']).toBeUndefined();
    expect(gateway.thresholds['pilot_errors{scenario:sse-subscribe}']).toBeDefined();
    expect(gateway.scenarios['cached-read']).toMatchObject({
      rate: shipped.defaults.smoke.rate,
      duration: shipped.defaults.smoke.duration,
    });
  });
});
