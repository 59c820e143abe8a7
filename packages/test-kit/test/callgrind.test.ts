import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { eventTotals, extraCallgrindArgs, formatEvents } from '../src/callgrind.ts';

describe('callgrind options and simulated events', () => {
  it('BENCH_CALLGRIND_ARGS passes --name=value options and nothing else', () => {
    expect(extraCallgrindArgs(undefined)).toEqual([]);
    expect(extraCallgrindArgs('  ')).toEqual([]);
    expect(extraCallgrindArgs(' --cache-sim=yes  --branch-sim=yes ')).toEqual([
      '--cache-sim=yes',
      '--branch-sim=yes',
    ]);
    for (const bad of ['--cache-sim', '-v', 'ls', '--x=1 /bin/sh', '--Cache=yes']) {
      expect(() => extraCallgrindArgs(bad)).toThrow(/BENCH_CALLGRIND_ARGS: expected --name=value/);
    }
    for (const owned of [
      '--tool=memcheck',
      '--cache-sim=yes --instr-atstart=yes',
      '--callgrind-out-file=x',
    ]) {
      expect(() => extraCallgrindArgs(owned)).toThrow(/is set by the bench itself/);
    }
  });

  it('a value is accepted exactly when every word is an option', () => {
    const option = fc
      .tuple(fc.stringMatching(/^[a-z][a-z0-9-]{0,12}$/), fc.stringMatching(/^[^\s]{1,8}$/))
      .map(([name, value]) => `--${name}=${value}`);
    const word = fc.oneof(option, fc.stringMatching(/^[^\s]{1,10}$/));
    fc.assert(
      fc.property(fc.array(word, { maxLength: 5 }), (words) => {
        const owned = ['tool', 'quiet', 'smc-check', 'instr-atstart', 'callgrind-out-file'];
        const valid = words.every(
          (w) => /^--[a-z][a-z0-9-]*=\S+$/.test(w) && !owned.includes(w.slice(2, w.indexOf('='))),
        );
        const run = () => extraCallgrindArgs(words.join(' '));
        if (valid) expect(run()).toEqual(words);
        else expect(run).toThrow();
      }),
    );
  });

  it('reads the events and totals of a callgrind file', () => {
    const file = [
      '# callgrind format',
      'events: Ir Dr I1mr Bcm',
      'fn=(1) main',
      '0 10 4 1 0',
      'totals: 531285760 133902104 26453078 8696705',
    ].join('\n');
    expect(eventTotals(file)).toEqual({ Ir: 531285760, Dr: 133902104, I1mr: 26453078, Bcm: 8696705 });
    expect(eventTotals('events: Ir\ntotals: 42\n')).toEqual({ Ir: 42 });
    expect(formatEvents({})).toBe('');
    expect(formatEvents({ I1mr: 4409, Bcm: 1449 })).toBe('; I1mr 4409, Bcm 1449');
  });
});
