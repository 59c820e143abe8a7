// k6/run.js executed in Node against stand-ins for the k6 modules (test/k6-stubs): the init
// context (catalogue → options → thresholds), one iteration of every scenario, and
// handleSummary. Real k6 is not installable here; this plus the @types/k6 type-check is the
// `k6 inspect`-level validity CI can have.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { loadCatalogue } from '../src/catalogue.ts';
import { type CompareReport, RESULTS_SCHEMA, type RunResult } from '../src/model.ts';
import { fromK6Summary } from '../src/report-cli.ts';
import { type SentRequest, k6State, type StubResponse } from './k6-stubs/state.ts';

const K6_DIR = join(import.meta.dirname, '..', 'k6');
/** A k6 summary as k6 1.x hands it to handleSummary (see fixtures/make-k6-summary.ts). */
const FIXTURE = join(import.meta.dirname, 'fixtures', 'modern.k6-summary.json');
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
  if (path === '/metrics')
    return {
      status: 200,
      body: '# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total 12.5\nprocess_resident_memory_bytes 104857600\n',
    };
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
    // a full run: the fixed-rate scenarios, and the probe that samples legacy's /metrics
    expect(Object.keys(legacy.options.scenarios)).toEqual([
      ...catalogue.scenarios
        .filter((s) => (!s.kind || s.kind === 'fixed') && s.targets.includes('legacy'))
        .map((s) => s.name),
      'pilot-probe',
    ]);
    expect(legacy.options.scenarios['pilot-probe']).toMatchObject({
      executor: 'constant-vus',
      vus: 1,
      exec: 'probe',
    });
    expect(legacy.options.thresholds['pilot_errors{scenario:cached-read}']).toEqual(['rate<=0.01']);
    // per-second buckets are kept in the summary without judging them
    expect(legacy.options.thresholds['pilot_latency{scenario:cached-read,w:14}']).toEqual(['max>=0']);

    const capacity = await loadScript({ TARGET: 'modern', KIND: 'capacity', METRICS: 'off' });
    expect(Object.keys(capacity.options.scenarios)).toEqual(
      catalogue.scenarios.filter((s) => s.kind === 'capacity').map((s) => s.name),
    );
    const cap = capacity.options.scenarios['cached-read-capacity']!;
    expect(cap).toMatchObject({ executor: 'ramping-arrival-rate', startRate: 200, timeUnit: '1s' });
    expect((cap.stages as Array<{ duration: string }>).filter((s) => s.duration === '0s')).toHaveLength(6);
    // a capacity run is meant to break the SLO: its thresholds keep the numbers, k6 does not fail on them
    expect(capacity.options.thresholds['pilot_latency{scenario:cached-read-capacity}']).toEqual(['max>=0']);
    expect(capacity.options.thresholds['pilot_latency{scenario:cached-read-capacity,phase:6}']).toEqual([
      'max>=0',
    ]);
    await expect(loadScript({ TARGET: 'modern', KIND: 'stress' })).rejects.toThrow(/KIND must list/);

    const smoke = await loadScript({
      TARGET: 'gateway',
      SMOKE: '1',
      SCENARIO: 'sse-subscribe',
      METRICS: 'off',
    });
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
      METRICS: 'off',
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
    expect(sse.params).toMatchObject({ timeout: 3000 });

    const errors = k6State.samples.filter((s) => s.metric === 'pilot_errors');
    expect(errors.every((s) => s.value === 0)).toBe(true);
    // a stream held to k6's timeout is neither a success nor an error: it is unverified
    expect(new Set(errors.map((s) => s.tags.scenario))).toEqual(
      new Set(Object.keys(script.options.scenarios).filter((n) => n !== 'sse-subscribe')),
    );
    expect(k6State.samples.filter((s) => s.metric === 'pilot_unverified')).toEqual([
      expect.objectContaining({
        value: 1,
        tags: expect.objectContaining({ scenario: 'sse-subscribe', w: '0' }),
      }),
    ]);
    // every sample carries its timeline bucket
    expect(k6State.samples.every((s) => s.tags.w === '0')).toBe(true);
    const latency = k6State.samples.filter((s) => s.metric === 'pilot_latency');
    expect(latency.some((s) => s.tags.scenario === 'sse-subscribe')).toBe(false);
    expect(latency.length).toBe(k6State.requests.length - 1);
  });

  it('judges a stream that answered before the hold: status, content type and a first event', async () => {
    const script = await loadScript({ TARGET: 'modern', SCENARIO: 'sse-subscribe', METRICS: 'off' });
    k6State.scenarioName = 'sse-subscribe';
    k6State.respond = () => ({ status: 503, headers: { 'Content-Type': 'application/json' }, body: '{}' });
    script.default();
    k6State.respond = () => ({ status: 200, headers: { 'Content-Type': 'text/event-stream' }, body: '' });
    script.default();
    k6State.respond = () => ({
      status: 200,
      headers: { 'Content-Type': 'text/event-stream' },
      body: 'retry: 3000\n\n',
    });
    script.default();
    expect(k6State.samples.filter((s) => s.metric === 'pilot_errors').map((s) => s.value)).toEqual([1, 1, 0]);
  });

  it('a capacity iteration is tagged with the step it was offered in', async () => {
    const script = await loadScript({ TARGET: 'modern', SCENARIO: 'cached-read-capacity', METRICS: 'off' });
    k6State.scenarioName = 'cached-read-capacity';
    k6State.scenarioStartTime = Date.now() - 4500; // 4.5 s in: the third 2-second step
    script.default();
    const sample = k6State.samples.find((s) => s.metric === 'pilot_latency')!;
    expect(sample.tags).toMatchObject({ phase: '2', w: '4' });
  });

  it('the probe samples /metrics once a second, tagged with the scenario running', async () => {
    const script = (await loadScript({
      TARGET: 'modern',
      SCENARIO: 'cached-read',
      METRICS: 'modern=http://127.0.0.1:3002/metrics',
    })) as RunModule & { probe: () => void; promValue: (text: string, name: string) => number | null };
    k6State.scenarioName = 'pilot-probe';
    k6State.scenarioStartTime = Date.now() - 2000;
    script.probe();
    expect(k6State.requests.map((r) => r.url)).toEqual(['http://127.0.0.1:3002/metrics']);
    expect(k6State.samples).toEqual(
      expect.arrayContaining([
        { metric: 'pilot_proc_cpu', value: 12.5, tags: { of: 'cached-read', service: 'modern' } },
        { metric: 'pilot_proc_rss', value: 104857600, tags: { of: 'cached-read', service: 'modern' } },
      ]),
    );
    expect(k6State.sleeps).toEqual([1]);
    expect(script.promValue('a{x="1"} 2\na{x="2"} 3\n# a 9\nb 1', 'a')).toBe(5);
    expect(script.promValue('b 1', 'a')).toBeNull();
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

  it('handleSummary writes results.json (the report schema) from a realistic k6 summary, and a text summary', async () => {
    const script = await loadScript({
      TARGET: 'modern',
      BASE_URL: 'http://127.0.0.1:3002',
      SUMMARY_JSON: 'out/k6-modern.json',
      SCENARIO: 'cached-read,cached-read-capacity,sse-subscribe',
      METRICS: 'modern=http://127.0.0.1:3002/metrics',
    });
    const data = JSON.parse(readFileSync(FIXTURE, 'utf8'));
    const out = script.handleSummary(data);
    expect(Object.keys(out).sort()).toEqual(['out/k6-modern.json', 'stdout']);
    const results = JSON.parse(out['out/k6-modern.json']!) as CompareReport & { k6Summary: unknown };
    expect(results).toMatchObject({
      schema: RESULTS_SCHEMA,
      engine: 'k6',
      mode: 'full',
      targets: { modern: 'http://127.0.0.1:3002' },
    });
    expect(results.k6Summary).toEqual(data);
    expect(results.catalogue.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(results.runs.map((r) => r.scenario)).toEqual([
      'cached-read',
      'sse-subscribe',
      'cached-read-capacity',
    ]);
    const [read, sse, capacity] = results.runs as [RunResult, RunResult, RunResult];
    expect(read).toMatchObject({ kind: 'fixed', requests: 3000, errors: 0, offeredRate: 200 });
    expect(read.latency).toMatchObject({ p50: 1.84, p99: 9.7, count: 3000 });
    expect(read.timeline).toHaveLength(15);
    expect(read.timeline[3]).toMatchObject({ second: 3, offered: 200, completed: 200, requests: 200 });
    expect(read.thresholds.ok).toBe(true);
    // the held stream is not passed: it is marked not verifiable
    expect(sse.unverifiable).toMatch(/^not verifiable on k6/);
    expect(sse.thresholds.ok).toBe(false);
    // capacity at the SLO from the per-step sub-metrics, the generator never blamed (k6 drops instead)
    expect(capacity.capacity).toMatchObject({
      capacityAtSlo: 1311,
      limitedBy: 'slo',
      breach: { rate: 2097 },
    });
    expect(capacity.capacity!.knee).toMatchObject({ rate: 1311 });
    expect(capacity.phases).toHaveLength(7);
    expect(capacity.iterations.dropped).toBe(2500);
    // cost from the probe's samples of modern's process_* metrics
    const own = capacity.cost!.processes.find((p) => p.name === 'modern')!;
    expect(own).toMatchObject({ source: 'metrics', peakRssBytes: 148e6 });
    // CPU growth over the sampled span, scaled to the scenario's length
    expect(own.cpuSeconds).toBeCloseTo(((52.9 - 41.2) * (capacity.elapsedMs / 1000)) / (39.3 - 25.2), 2);
    expect(
      results.summaries.find((s) => s.scenario === 'cached-read-capacity')!.metrics.capacity!.value,
    ).toBe(1311);
    // the same summary given raw to `pnpm report` gives the same runs
    const raw = fromK6Summary(data, { target: 'modern' }, 'fixture');
    const strip = (r: RunResult) => ({ ...r, baseUrl: '', startedAt: '', cost: null });
    expect(raw.runs.map(strip)).toEqual(results.runs.map(strip));
    expect(out.stdout).toMatch(
      /cached-read +3000 +1\.8ms +6\.7ms +9\.7ms +0 \(0\.00%\) +✓ p\(95\)<50 {2}✓ p\(99\)<150 {2}✓ rate<=0\.01/,
    );
    expect(out.stdout).toContain('dropped iterations');
    expect(out.stdout).toMatch(/cached-read-capacity +\d+ .*kept for the report/);
  });

  it('stays plain k6: no remote imports, no syntax k6 0.4x cannot parse', () => {
    const files = ['run.js', ...readdirSync(join(K6_DIR, 'lib')).map((f) => `lib/${f}`)];
    expect(files).toEqual(expect.arrayContaining(['lib/core.js', 'lib/kinds.js', 'lib/results.js']));
    for (const file of files) {
      const source = readFileSync(join(K6_DIR, file), 'utf8');
      expect(source, file).not.toMatch(/from ['"]https?:/);
      expect(source.replace(/\/\/.*$|\/\*[\s\S]*?\*\//gm, ''), file).not.toMatch(
        /\?\.|\?\?|Object\.hasOwn\(/,
      );
      // k6 modules only in run.js; lib files import each other only
      const imports = [...source.matchAll(/^(?:import [^;]*?|\} )from '([^']+)';$/gm)].map((m) => m[1]!);
      expect(imports.length, file).toBeGreaterThan(
        file === 'lib/parse.js' ||
          file === 'lib/analysis.js' ||
          file === 'lib/summary.js' ||
          file === 'lib/summarize.js'
          ? -1
          : 0,
      );
      for (const spec of imports) {
        if (file.startsWith('lib/')) expect(spec, file).toMatch(/^\.\/[a-z]+\.js$/);
        else expect(spec, file).toMatch(/^(k6(\/[a-z]+)?|\.\/lib\/[a-z]+\.js)$/);
      }
    }
  });
});
