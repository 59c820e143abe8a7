import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseTable, TableError } from '../src/index.ts';
import { type CapturedResponse, compareResponses, generalizePath } from '../src/shadow/diff.ts';
import { NoiseModel } from '../src/shadow/noise.ts';
import { SampleStore, type ShadowSample } from '../src/shadow/samples.ts';
import { RouteShadowStats, routeShadowNumbers, topDifferences, wilson } from '../src/shadow/stats.ts';

const json = (value: unknown, status = 200, type = 'application/json'): CapturedResponse => ({
  status,
  headers: { 'content-type': type },
  body: Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)),
  truncated: false,
});
const opts = { compareHeaders: ['content-type'], ignore: [] };

function sample(id: string, route = 'r', at = new Date().toISOString()): ShadowSample {
  const side = { backend: 'x', status: 200, headers: {}, body: '', truncated: false };
  return {
    id,
    route,
    at,
    method: 'GET',
    path: '/',
    requestId: id,
    primary: side,
    shadow: side,
    differences: [],
  };
}

describe('sample store', () => {
  it('keeps the newest N per route: s1..s5 with room for 3 → s5, s4, s3', () => {
    const store = new SampleStore(() => 3);
    for (let i = 1; i <= 5; i++) {
      store.add(sample(`s${i}`));
      // reading in between must not change what the next eviction removes
      store.list('r');
    }
    expect(store.list('r').map((s) => s.id)).toEqual(['s5', 's4', 's3']);
    store.add(sample('s6'));
    expect(store.list('r').map((s) => s.id)).toEqual(['s6', 's5', 's4']);
    expect(store.get('s3')).toBeUndefined();
  });

  it('keeps the newest N for any sequence of adds and reads, and any limit change', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(fc.constant('add' as const), fc.constant('list' as const), fc.integer({ min: 1, max: 6 })),
          {
            maxLength: 60,
          },
        ),
        (ops) => {
          let max = 3;
          const store = new SampleStore(() => max);
          const added: string[] = [];
          // the reference: every add keeps the newest `max` in force at that moment
          const expected: string[] = [];
          for (const op of ops) {
            if (op === 'add') {
              added.push(`s${added.length}`);
              store.add(
                sample(added.at(-1)!, 'r', `2025-01-01T00:00:${String(added.length).padStart(2, '0')}Z`),
              );
              expected.push(added.at(-1)!);
              while (expected.length > max) expected.shift();
            } else if (op === 'list') store.list('r');
            else max = op;
          }
          expect(store.list('r', 100).map((s) => s.id)).toEqual([...expected].reverse());
        },
      ),
    );
  });

  it('merges routes newest first without reordering either route', () => {
    const store = new SampleStore(() => 2);
    store.add(sample('a1', 'a', '2025-01-01T00:00:01Z'));
    store.add(sample('b1', 'b', '2025-01-01T00:00:02Z'));
    store.add(sample('a2', 'a', '2025-01-01T00:00:03Z'));
    expect(store.list(undefined).map((s) => s.id)).toEqual(['a2', 'b1', 'a1']);
    store.add(sample('a3', 'a', '2025-01-01T00:00:04Z'));
    expect(store.list('a').map((s) => s.id)).toEqual(['a3', 'a2']);
  });
});

describe('comparison verdicts', () => {
  it('an answer over the compare limit is not compared (never a match)', () => {
    const big = { ...json({ a: 1 }), truncated: true };
    expect(compareResponses(big, json({ a: 1 }), opts)).toEqual({ compared: false, reason: 'too_large' });
    expect(compareResponses(json({ a: 1 }), big, opts)).toEqual({ compared: false, reason: 'too_large' });
  });

  it('a status that differs is a mismatch even when the body cannot be judged', () => {
    const big = { ...json({ a: 1 }), truncated: true };
    const r = compareResponses(big, json({}, 500), opts);
    expect(r).toEqual({ compared: true, differences: [{ path: '$status', primary: 200, shadow: 500 }] });
  });

  it('a served answer that claims JSON and is not: not compared', () => {
    expect(compareResponses(json('{broken'), json({ a: 1 }), opts)).toEqual({
      compared: false,
      reason: 'not_json',
    });
  });

  it('a shadow answer that is not JSON where the served one is: a difference at $body', () => {
    const r = compareResponses(json({ a: 1 }), json('<html>'), opts);
    expect(r.compared && r.differences.map((d) => d.path)).toEqual(['$body']);
  });

  it('non-JSON answers are compared byte for byte', () => {
    const text = (s: string) => json(s, 200, 'text/plain');
    expect(compareResponses(text('a'), text('a'), opts)).toEqual({ compared: true, differences: [] });
    const r = compareResponses(text('a'), text('b'), opts);
    expect(r.compared && r.differences[0]!.path).toBe('$body');
  });

  it('learned noise hides exactly the generalised path, not its neighbours', () => {
    const noise = new Set(['data.*.id']);
    const a = json({
      data: [
        { id: 1, t: 'x' },
        { id: 2, t: 'y' },
      ],
    });
    const b = json({
      data: [
        { id: 9, t: 'x' },
        { id: 8, t: 'z' },
      ],
    });
    const r = compareResponses(a, b, { ...opts, isNoise: (p) => noise.has(p) });
    expect(r.compared && r.differences.map((d) => d.path)).toEqual(['data.1.t']);
  });

  it('generalises list positions', () => {
    expect(generalizePath('data.12.author.3.id')).toBe('data.*.author.*.id');
    expect(generalizePath('meta.requestId')).toBe('meta.requestId');
  });
});

describe('noise model', () => {
  it('learns what differed between two served answers; counts the pairs that taught each path', () => {
    const m = new NoiseModel();
    m.learn([{ path: 'meta.id' }, { path: 'data.0.at' }, { path: 'data.1.at' }]);
    m.learn([{ path: 'meta.id' }]);
    expect(m.pairs).toBe(2);
    const paths = Object.fromEntries(m.snapshot().paths.map((p) => [p.path, p.pairs]));
    expect(paths).toEqual({ 'meta.id': 2, 'data.*.at': 1 });
    expect(m.isNoise('meta.id')).toBe(true);
    expect(m.isNoise('meta.other')).toBe(false);
  });

  it('never learns $status; a rejected path is never noise, a pinned one always', () => {
    const m = new NoiseModel();
    m.learn([{ path: '$status', primary: 200, shadow: 500 }, { path: 'a' }]);
    expect(m.isNoise('$status')).toBe(false);
    m.set('a', 'rejected');
    m.learn([{ path: 'a' }]);
    expect(m.isNoise('a')).toBe(false);
    m.set('b.0.c', 'pinned');
    expect(m.isNoise('b.*.c')).toBe(true);
    expect(m.forget('b.*.c')).toBe(true);
    expect(m.isNoise('b.*.c')).toBe(false);
  });

  it('never hides a path that did not differ between two served answers (generated)', () => {
    const seg = fc.oneof(
      fc.constantFrom('data', 'meta', 'id', 'title', 'at'),
      fc.nat({ max: 3 }).map(String),
    );
    const path = fc.array(seg, { minLength: 1, maxLength: 4 }).map((s) => s.join('.'));
    fc.assert(
      fc.property(fc.array(fc.array(path, { maxLength: 5 }), { maxLength: 5 }), path, (pairs, probe) => {
        const m = new NoiseModel();
        for (const diffs of pairs) m.learn(diffs.map((p) => ({ path: p })));
        const taught = pairs.flat().some((p) => generalizePath(p) === generalizePath(probe));
        if (!taught) expect(m.isNoise(generalizePath(probe))).toBe(false);
      }),
    );
  });
});

describe('numbers with their uncertainty', () => {
  it('Wilson 95% interval matches the textbook values', () => {
    const w = wilson(0, 10);
    expect(w.rate).toBe(0);
    expect(w.lower).toBe(0);
    expect(w.upper).toBeCloseTo(0.2775, 3);
    const h = wilson(50, 100);
    expect(h.lower).toBeCloseTo(0.4038, 3);
    expect(h.upper).toBeCloseTo(0.5962, 3);
    expect(wilson(0, 0)).toEqual({ rate: null, lower: null, upper: null });
  });

  it('the rate divides mismatches by compared pairs only; not compared and dropped are apart', () => {
    const s = new RouteShadowStats();
    s.matched = 3;
    s.notCompared.too_large = 5;
    s.dropped.concurrency = 2;
    s.recordMismatch([{ path: 'data.1.title', primary: 'a', shadow: 'b' }], {
      at: 'now',
      method: 'GET',
      path: '/x',
      requestId: 'r',
      sampleId: null,
    });
    const n = routeShadowNumbers(s.snapshot());
    expect(n).toMatchObject({
      compared: 4,
      matched: 3,
      mismatched: 1,
      notCompared: 5,
      dropped: 2,
      mismatchRate: 0.25,
    });
    expect(n.mismatchRateInterval.lower).toBeGreaterThan(0);
    expect(n.mismatchRateInterval.upper).toBeLessThan(1);
  });

  it('ranks differing paths, one count per mismatching pair, status pairs apart', () => {
    const s = new RouteShadowStats();
    const ex = { at: 'now', method: 'GET', path: '/x', requestId: 'r', sampleId: null };
    s.recordMismatch([{ path: 'data.0.title' }, { path: 'data.1.title' }, { path: 'meta.total' }], ex);
    s.recordMismatch([{ path: 'data.2.title' }], ex);
    s.recordMismatch([{ path: '$status', primary: 200, shadow: 404 }], ex);
    const top = topDifferences(s.snapshot());
    expect(top.paths.map((p) => [p.path, p.count])).toEqual([
      ['data.*.title', 2],
      ['meta.total', 1],
    ]);
    expect(top.paths[0]!.example.field).toBe('data.0.title');
    expect(top.statuses).toMatchObject([{ primary: 200, shadow: 404, count: 1 }]);
    expect(top.statusOnly).toBe(1);
  });
});

describe('mirroring writes is explicit', () => {
  const table = (shadow: string) => `backends:
  legacy: { url: http://127.0.0.1:3001 }
  modern: { url: http://127.0.0.1:3002 }
routes:
  - id: subscribers
    path: /subscribers
    backend: legacy
    shadow:
${shadow}
`;

  it('refuses unsafe shadow methods without mirrorWrites, naming line and field', () => {
    let error: unknown;
    try {
      parseTable(table('      backend: modern\n      methods: [GET, POST]'), 'routes.yaml');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TableError);
    const issue = (error as TableError).issues[0]!;
    expect(issue.path).toBe('routes[0].shadow.methods[1]');
    expect(issue.line).toBe(10);
    expect(issue.message).toMatch(/POST is not a safe method.*mirrorWrites: true/);
  });

  it('accepts them with mirrorWrites: true; safe methods need nothing', () => {
    const withWrites = parseTable(
      table('      backend: modern\n      methods: [POST]\n      mirrorWrites: true'),
      'routes.yaml',
    );
    expect(withWrites.config.routes[0]!.shadow!.mirrorWrites).toBe(true);
    const safe = parseTable(
      table('      backend: modern\n      methods: [GET, HEAD, OPTIONS]'),
      'routes.yaml',
    );
    expect(safe.config.routes[0]!.shadow!.mirrorWrites).toBe(false);
  });

  it('accepts noise: learn and its long form', () => {
    const short = parseTable(table('      backend: modern\n      noise: learn'), 'routes.yaml');
    expect(short.config.routes[0]!.shadow!.noise).toEqual({
      mode: 'learn',
      sampleRate: 0.1,
      warmupPairs: 10,
    });
    const long = parseTable(
      table('      backend: modern\n      noise: { mode: learn, sampleRate: 1, warmupPairs: 3 }'),
      'routes.yaml',
    );
    expect(long.config.routes[0]!.shadow!.noise).toEqual({ mode: 'learn', sampleRate: 1, warmupPairs: 3 });
    const off = parseTable(table('      backend: modern'), 'routes.yaml');
    expect(off.config.routes[0]!.shadow!.noise.mode).toBe('off');
  });
});
