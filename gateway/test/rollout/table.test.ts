import { describe, expect, it } from 'vitest';
import { parseTable } from '../../src/config/load.ts';
import { TableError } from '../../src/errors.ts';

const TABLE = (route: string) => `backends:
  legacy: { url: http://127.0.0.1:3001 }
  modern: { url: http://127.0.0.1:3002 }
routes:
${route}`;

function issues(text: string) {
  try {
    parseTable(text, 'routes.yaml');
  } catch (error) {
    if (error instanceof TableError) return error.issues;
    throw error;
  }
  return [];
}

describe('the rollout block in the route table', () => {
  it('loads with its defaults on a split route', () => {
    const t = parseTable(
      TABLE(`  - id: subscribers
    path: /subscribers*
    split: { legacy: 90, modern: 10 }
    rollout:
      steps: [10, 25, 50, 100]
      interval: 2m
      gates: { successRate: 99.5, p99: { factor: 1.5, maxMs: 800 } }
`),
      'routes.yaml',
    );
    expect(t.config.routes[0]!.rollout).toMatchObject({
      steps: [10, 25, 50, 100],
      interval: 120_000,
      minRequests: 100,
      gates: { successRate: 99.5, p99: { factor: 1.5, maxMs: 800 } },
    });
  });

  it('reports every problem with its line and field, like the rest of the table', () => {
    const found = issues(
      TABLE(`  - id: subscribers
    path: /subscribers*
    split: { legacy: 90, modern: 10 }
    rollout:
      steps: [10, 5, 100]
      interval: soon
      gates:
        successRate: 120
`),
    );
    expect(found).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          path: 'routes[0].rollout.steps[1]',
          line: 9,
          message: expect.stringMatching(/increase/),
        }),
        expect.objectContaining({ path: 'routes[0].rollout.interval', line: 10 }),
        expect.objectContaining({ path: 'routes[0].rollout.gates.successRate', line: 12 }),
      ]),
    );
  });

  it('a shadow step needs a shadow to the new backend; a rollout needs both backends', () => {
    const noShadow = issues(
      TABLE(`  - id: aggregate
    path: /aggregate*
    split: { legacy: 100, modern: 0 }
    rollout: { steps: [shadow, 50, 100] }
`),
    );
    expect(noShadow[0]).toMatchObject({ path: 'routes[0].rollout.steps[0]', line: 8 });
    expect(noShadow[0]!.message).toMatch(/shadow block mirroring to the new backend "modern"/);
    const single = issues(
      TABLE(`  - id: articles
    path: /articles*
    backend: modern
    rollout: { steps: [100] }
`),
    );
    expect(single[0]).toMatchObject({ path: 'routes[0].rollout', line: 8 });
    const ok = parseTable(
      TABLE(`  - id: aggregate
    path: /aggregate*
    backend: legacy
    shadow: { backend: modern }
    rollout: { steps: [shadow, 10, 100] }
`),
      'routes.yaml',
    );
    expect(ok.config.routes[0]!.rollout!.steps).toEqual(['shadow', 10, 100]);
  });
});

describe('a promotion keeps the old backend as fallback (override channel)', () => {
  it('an override may name the fallback; an unknown backend makes the override unusable', async () => {
    const { buildTable } = await import('../../src/control/compile.ts');
    const t = parseTable(
      TABLE(`  - id: subscribers
    path: /subscribers*
    split: { legacy: 90, modern: 10 }
`),
      'routes.yaml',
    );
    const promoted = buildTable(t.config, t.fileVersion, t.backends, {
      subscribers: { weights: { legacy: 0, modern: 100 }, fallback: 'legacy', by: 'rollout', at: 'now' },
    });
    expect(promoted.routes[0]).toMatchObject({ fallback: 'legacy', weights: { legacy: 0, modern: 100 } });
    const plain = buildTable(t.config, t.fileVersion, t.backends, {});
    expect(plain.routes[0]!.fallback).toBeNull();
    expect(plain.version).not.toBe(promoted.version);
    const unknown = buildTable(t.config, t.fileVersion, t.backends, {
      subscribers: { weights: { legacy: 0, modern: 100 }, fallback: 'nope', by: 'x', at: 'y' },
    });
    expect(unknown.routes[0]!.override).toBeNull();
  });
});
