import { describe, expect, it } from 'vitest';
import { buildK6Options, isStreaming, loadFor } from '../k6/lib/core.js';
import {
  type Catalogue,
  CatalogueError,
  loadCatalogue,
  parseCatalogue,
  templateExpressions,
} from '../src/catalogue.ts';

const shipped = loadCatalogue();
const clone = (): Catalogue => structuredClone(shipped);
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
    const byRoute = (route: string) => shipped.scenarios.filter((s) => s.route.includes(route));
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
      expect(loadFor(shipped, s, 'smoke').executor).toBe('constant-arrival-rate');
      expect(s.load.executor).toMatch(/arrival-rate/);
    }
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
        (c.scenarios[0] as Record<string, unknown>).rps = 5;
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
    const legacy = buildK6Options(shipped, { target: 'legacy', mode: 'full' });
    expect(legacy.order).not.toContain('sse-subscribe');
    expect(legacy.order).toHaveLength(shipped.scenarios.length - 1);
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
