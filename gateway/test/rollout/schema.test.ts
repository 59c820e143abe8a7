import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseDuration, rolloutSchema } from '../../src/control/rollout/schema.ts';

describe('rollout block schema', () => {
  it('fills the documented defaults', () => {
    const r = rolloutSchema.parse({ steps: [10, 100] });
    expect(r).toMatchObject({
      steps: [10, 100],
      interval: 60_000,
      minRequests: 100,
      maxFailedChecks: 1,
      start: 'auto',
      gates: { successRate: 99, shadowMismatch: 1, custom: [] },
    });
    expect(r.gates.p99).toBeUndefined();
  });

  it('reads intervals as "60s", "2m", "1500ms" or milliseconds', () => {
    expect(rolloutSchema.parse({ steps: [100], interval: '2m' }).interval).toBe(120_000);
    expect(rolloutSchema.parse({ steps: [100], interval: '1500ms' }).interval).toBe(1500);
    expect(rolloutSchema.parse({ steps: [100], interval: 5000 }).interval).toBe(5000);
    expect(rolloutSchema.parse({ steps: [100], interval: '1.5s' }).interval).toBe(1500);
    const bad = rolloutSchema.safeParse({ steps: [100], interval: 'soon' });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues[0]).toMatchObject({
      path: ['interval'],
      message: expect.stringMatching(/duration/),
    });
    expect(rolloutSchema.safeParse({ steps: [100], interval: '10ms' }).error!.issues[0]!.message).toMatch(
      /at least 1s/,
    );
  });

  it('names the step that breaks the rules', () => {
    const issues = (input: unknown) => rolloutSchema.safeParse(input).error?.issues ?? [];
    expect(issues({ steps: [10, 'shadow', 100] })[0]).toMatchObject({ path: ['steps', 1] });
    expect(issues({ steps: [10, 10, 100] })[0]).toMatchObject({ path: ['steps', 1], message: /increase/ });
    expect(issues({ steps: [10, 50] })[0]).toMatchObject({
      path: ['steps', 1],
      message: /last step must be 100/,
    });
    expect(issues({ steps: [0.5, 100] })[0]).toMatchObject({ path: ['steps', 0] });
    expect(issues({ steps: [] })[0]).toMatchObject({ path: ['steps'] });
    expect(issues({ steps: [100], gates: { p99: {} } })[0]).toMatchObject({ path: ['gates', 'p99'] });
    expect(issues({ steps: [100], gates: { successRate: 101 } })[0]).toMatchObject({
      path: ['gates', 'successRate'],
    });
    expect(issues({ steps: [100], surprise: 1 })[0]).toMatchObject({ code: 'unrecognized_keys' });
    expect(
      issues({
        steps: [100],
        gates: { custom: [{ name: 'x', url: 'http://a/metrics', metric: 'a{b=c}', threshold: 1 }] },
      })[0],
    ).toMatchObject({ path: ['gates', 'custom', 0, 'metric'] });
    expect(issues({ steps: [100], notify: 'file:///etc/passwd' })[0]).toMatchObject({ path: ['notify'] });
  });

  it('accepts a custom Prometheus gate with a selector and a comparison', () => {
    const r = rolloutSchema.parse({
      steps: [100],
      gates: {
        custom: [
          {
            name: 'db errors',
            url: 'http://127.0.0.1:3002/metrics',
            metric: 'db_errors_total{route="subscribers",kind="timeout"}',
            op: '<',
            threshold: 5,
          },
        ],
      },
    });
    expect(r.gates.custom[0]).toMatchObject({ op: '<', threshold: 5, timeoutMs: 2000 });
  });

  it('never throws on any input: it answers with issues (generated input)', () => {
    fc.assert(
      fc.property(fc.anything(), (input) => {
        const r = rolloutSchema.safeParse(input);
        expect(typeof r.success).toBe('boolean');
      }),
    );
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.double(), fc.integer()), (v) => {
        const ms = parseDuration(v);
        expect(ms === null || (Number.isInteger(ms) && ms >= 0)).toBe(true);
      }),
    );
  });
});
