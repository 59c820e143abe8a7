// k6/run.js executed in Node against stand-ins for the k6 modules (test/k6-stubs): the init
// context (catalogue → options → thresholds), one iteration of every scenario, and
// handleSummary. Real k6 is not installable here; this plus the @types/k6 type-check is the
// `k6 inspect`-level validity CI can have.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { loadCatalogue } from '../src/catalogue.ts';
import { type SentRequest, k6State, type StubResponse } from './k6-stubs/state.ts';

const K6_DIR = join(import.meta.dirname, '..', 'k6');
const catalogue = loadCatalogue();
const g = globalThis as Record<string, unknown>;

interface RunModule {
  options: { scenarios: Record<string, Record<string, unknown>>; thresholds: Record<string, string[]> };
  default: () => void;
  handleSummary: (data: unknown) => Record<string, string>;
}

async function loadScript(env: Record<string, string>): Promise<RunModule> {
  vi.resetModules();
  g.__ENV = env;
  g.__VU = 1;
  g.__ITER = 0;
  g.open = (path: string) => readFileSync(join(K6_DIR, path), 'utf8');
  return (await import('../k6/run.js')) as unknown as RunModule;
}

/** Plausible answers for every route of the catalogue. */
function service(request: SentRequest): StubResponse {
  const json = (status: number, body: unknown): StubResponse => ({
    status,
    headers: { 'Content-Type': 'application/json; charset=utf-8' },
    body: JSON.stringify(body),
  });
  const path = new URL(request.url).pathname;
  if (path === '/events') return { status: 0, error_code: 1050 }; // held until the timeout
  if (path === '/auth/login' || path === '/auth/refresh')
    return json(200, { accessToken: 'a1', refreshToken: 'r1' });
  if (path === '/subscribers') {
    const email = String(JSON.parse(request.body ?? '{}').email);
    return email.includes('@') ? json(201, { data: { email } }) : json(422, { error: { status: 422 } });
  }
  return json(200, { data: {} });
}

beforeEach(() => {
  k6State.reset();
  k6State.respond = service;
});

describe('k6/run.js (k6 modules stubbed)', () => {
  it('builds options for one target from the catalogue', async () => {
    const legacy = await loadScript({ TARGET: 'legacy', BASE_URL: 'http://127.0.0.1:3001/' });
    expect(Object.keys(legacy.options.scenarios)).toEqual(
      catalogue.scenarios.filter((s) => s.targets.includes('legacy')).map((s) => s.name),
    );
    expect(legacy.options.thresholds['pilot_errors{scenario:cached-read}']).toEqual(['rate<=0.01']);

    const smoke = await loadScript({ TARGET: 'gateway', SMOKE: '1', SCENARIO: 'sse-subscribe' });
    expect(smoke.options.scenarios).toEqual({
      'sse-subscribe': expect.objectContaining({
        executor: 'constant-arrival-rate',
        rate: 3,
        duration: '3s',
      }),
    });

    await expect(loadScript({ TARGET: 'staging' })).rejects.toThrow(/TARGET must be one of/);
    await expect(loadScript({ TARGET: 'modern', SCENARIO: 'nope' })).rejects.toThrow(
      /unknown SCENARIO "nope"/,
    );
    await expect(loadScript({ TARGET: 'legacy', SCENARIO: 'sse-subscribe' })).rejects.toThrow(
      /no scenario applies/,
    );
  });

  it('runs one iteration of every scenario: templated, tagged requests and the custom metrics', async () => {
    const script = await loadScript({
      TARGET: 'modern',
      BASE_URL: 'http://127.0.0.1:3002',
      VAR_slug: 'from-env',
    });
    for (const name of Object.keys(script.options.scenarios)) {
      k6State.scenarioName = name;
      script.default();
    }
    const urls = k6State.requests.map((r) => `${r.method} ${r.url}`);
    expect(urls).toContain('GET http://127.0.0.1:3002/articles/from-env');
    expect(urls).toContain('GET http://127.0.0.1:3002/articles?page=1&pageSize=10');
    expect(urls).toContain('GET http://127.0.0.1:3002/me');
    for (const r of k6State.requests) {
      expect(r.params.tags).toMatchObject({
        target: 'modern',
        scenario: expect.any(String),
        route: expect.any(String),
      });
    }
    const refresh = k6State.requests.find((r) => r.url.endsWith('/auth/refresh'))!;
    expect(JSON.parse(refresh.body!)).toEqual({ refreshToken: 'r1' });
    const me = k6State.requests.find((r) => r.url.endsWith('/me'))!;
    expect(me.params.headers).toEqual({ authorization: 'Bearer a1' });
    const write = k6State.requests.find(
      (r) => r.params.tags && (r.params.tags as { step: string }).step === 'subscribe' && r.method === 'POST',
    )!;
    expect(JSON.parse(write.body!).email).toMatch(/^load-[0-9a-f-]{36}@example\.com$/);
    expect(write.params.responseCallback).toEqual({ expectedStatuses: [201] });
    const sse = k6State.requests.find((r) => r.url.endsWith('/events'))!;
    expect(sse.params).toMatchObject({ timeout: 3000, responseType: 'none' });

    const errors = k6State.samples.filter((s) => s.metric === 'pilot_errors');
    expect(errors.every((s) => s.value === 0)).toBe(true);
    expect(new Set(errors.map((s) => s.tags.scenario))).toEqual(
      new Set(Object.keys(script.options.scenarios)),
    );
    const latency = k6State.samples.filter((s) => s.metric === 'pilot_latency');
    expect(latency.some((s) => s.tags.scenario === 'sse-subscribe')).toBe(false);
    expect(latency.length).toBe(k6State.requests.length - 1);
  });

  it('counts an unexpected answer as an error and stops the chain', async () => {
    const script = await loadScript({ TARGET: 'legacy' });
    k6State.respond = (r) => (r.url.endsWith('/auth/login') ? { status: 401, body: '{}' } : service(r));
    k6State.scenarioName = 'auth-refresh';
    script.default();
    expect(k6State.requests.map((r) => new URL(r.url).pathname)).toEqual(['/auth/login']);
    expect(k6State.samples.filter((s) => s.metric === 'pilot_errors').map((s) => s.value)).toEqual([1]);
    expect(k6State.requests[0]!.url).toBe('http://127.0.0.1:3001/auth/login');
  });

  it('handleSummary writes the JSON summary and a text summary without remote imports', async () => {
    const script = await loadScript({
      TARGET: 'gateway',
      SUMMARY_JSON: 'out/k6-gw.json',
      SCENARIO: 'cached-read',
    });
    const data = {
      metrics: {
        'pilot_latency{scenario:cached-read}': {
          type: 'trend',
          contains: 'time',
          values: { med: 2.5, 'p(95)': 9, 'p(99)': 1200 },
          thresholds: { 'p(95)<50': { ok: true }, 'p(99)<150': { ok: false } },
        },
        'pilot_errors{scenario:cached-read}': {
          type: 'rate',
          values: { rate: 0.005, passes: 3, fails: 597 },
          thresholds: { 'rate<=0.01': { ok: true } },
        },
        http_reqs: { type: 'counter', values: { count: 600, rate: 199.8 } },
        dropped_iterations: { type: 'counter', values: { count: 2 } },
      },
    };
    const out = script.handleSummary(data);
    expect(Object.keys(out).sort()).toEqual(['out/k6-gw.json', 'stdout']);
    expect(JSON.parse(out['out/k6-gw.json']!)).toMatchObject({
      target: 'gateway',
      scenarios: ['cached-read'],
      k6: data,
    });
    expect(out.stdout).toMatch(
      /cached-read +600 +2\.5ms +9\.0ms +1\.20s +3 \(0\.50%\) +✓ p\(95\)<50 {2}✗ p\(99\)<150 {2}✓ rate<=0\.01/,
    );
    expect(out.stdout).toContain('dropped iterations');
    for (const file of ['run.js', 'lib/core.js', 'lib/summary.js']) {
      const source = readFileSync(join(K6_DIR, file), 'utf8');
      expect(source).not.toMatch(/from ['"]https?:/);
      // syntax k6 0.4x cannot parse stays out of the scripts
      expect(source.replace(/\/\/.*$|\/\*[\s\S]*?\*\//gm, '')).not.toMatch(/\?\.|\?\?|Object\.hasOwn\(/);
    }
  });
});
