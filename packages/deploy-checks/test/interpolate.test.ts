// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these are Compose `${VAR}` strings, not JS templates.
import { describe, expect, it } from 'vitest';
import { InterpolationError, interpolate, interpolateDeep } from '../src/interpolate.ts';

describe('compose interpolation', () => {
  it('expands the forms the Compose Specification defines', () => {
    const env = { SET: 'value', EMPTY: '' };
    expect(interpolate('${SET}', env)).toBe('value');
    expect(interpolate('$SET/x', env)).toBe('value/x');
    expect(interpolate('${UNSET:-fallback}', env)).toBe('fallback');
    expect(interpolate('${EMPTY:-fallback}', env)).toBe('fallback');
    expect(interpolate('${EMPTY-fallback}', env)).toBe('');
    expect(interpolate('${UNSET-fallback}', env)).toBe('fallback');
    expect(interpolate('${SET:+alt}', env)).toBe('alt');
    expect(interpolate('${EMPTY:+alt}', env)).toBe('');
    expect(interpolate('${UNSET}', env)).toBe('');
    expect(interpolate('cost: $$5', env)).toBe('cost: $5');
    expect(interpolate('${UNSET:-${SET}-nested}', env)).toBe('value-nested');
  });

  it('throws on required variables and malformed expressions', () => {
    expect(() => interpolate('${TOKEN:?set TOKEN in .env}')).toThrow(InterpolationError);
    expect(() => interpolate('${TOKEN:?set TOKEN in .env}')).toThrow('TOKEN: set TOKEN in .env');
    expect(() => interpolate('${1BAD}')).toThrow(/invalid interpolation/);
  });

  it('walks a parsed YAML tree, leaving keys and non-strings alone', () => {
    expect(interpolateDeep({ a: ['${X:-1}', 2, true, null], '${K}': { b: '$X' } }, { X: 'x' })).toEqual({
      a: ['x', 2, true, null],
      '${K}': { b: 'x' },
    });
  });
});
