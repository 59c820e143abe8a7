import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LIMITS, ListArticlesQuery, queryInteger, validationErrorBody } from '../src/index.ts';

const MIN = 1;
const MAX = LIMITS.maxPageSize;
const pageSize = queryInteger({ min: MIN, max: MAX });

/** The oracle, written without the implementation's regex: BigInt's own canonical form. */
function expected(text: string): number | undefined {
  if (!/^-?[0-9]+$/.test(text)) return undefined;
  const value = BigInt(text);
  if (String(value) !== text) return undefined; // leading zeros, "-0"
  return value >= BigInt(MIN) && value <= BigInt(MAX) ? Number(value) : undefined;
}

/** Spellings JavaScript's Number() reads as the same integer, none of them canonical. */
const lenient = (n: number): fc.Arbitrary<string> =>
  fc.constantFrom(
    `0x${n.toString(16)}`,
    `0X${n.toString(16).toUpperCase()}`,
    `0b${n.toString(2)}`,
    `0o${n.toString(8)}`,
    `${n}e0`,
    `${n}E0`,
    `${n * 10}e-1`,
    `${n}.0`,
    `${n}.`,
    `+${n}`,
    ` ${n}`,
    `${n} `,
    `\t${n}`,
    `${n}\n`,
    `0${n}`,
    `00${n}`,
    `${n}`.replace(/^(\d)/, '$1_'),
    `${n}`.replace(/\d/g, (d) => String.fromCharCode(0xff10 + Number(d))), // fullwidth digits
  );

describe('queryInteger: only canonical decimal integers', () => {
  it('accepts every integer in range, written canonically, as that number', () => {
    fc.assert(
      fc.property(fc.integer({ min: MIN, max: MAX }), (n) => {
        expect(pageSize.parse(String(n))).toBe(n);
      }),
    );
  });

  it('refuses every other spelling Number() would read as the same integer', () => {
    fc.assert(
      fc.property(fc.integer({ min: MIN, max: MAX }).chain(lenient), (text) => {
        // "1_0" and similar are not numbers for Number() either: refused all the same
        expect(pageSize.safeParse(text).success).toBe(false);
      }),
    );
  });

  it('agrees with the BigInt oracle on arbitrary strings, digit-heavy strings and big numbers', () => {
    const digitish = fc.string({
      unit: fc.constantFrom('0', '1', '2', '9', '-', '+', '.', 'e', 'x', ' ', '_'),
      maxLength: 8,
    });
    const anything = fc.oneof(
      fc.string(),
      fc.string({ unit: 'grapheme' }),
      digitish,
      fc.bigInt().map(String),
      fc.integer().map(String),
    );
    fc.assert(
      fc.property(anything, (text) => {
        const result = pageSize.safeParse(text);
        const want = expected(text);
        expect(result.success ? result.data : undefined).toBe(want);
      }),
      { numRuns: 2_000 },
    );
  });

  it('reports an out-of-range integer as a range error, however many digits it has', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: BigInt(MAX) + 1n }), (big) => {
        const result = pageSize.safeParse(String(big));
        expect(result.success).toBe(false);
        expect(result.error?.issues[0]?.message).toMatch(/Too big/);
      }),
    );
  });

  it('answers non-canonical page and pageSize in GET /articles as a 422 naming the parameter', () => {
    for (const [key, value] of [
      ['pageSize', '0x2'],
      ['pageSize', '0b11'],
      ['pageSize', '2e0'],
      ['pageSize', ' 2'],
      ['pageSize', '+2'],
      ['pageSize', '2.0'],
      ['pageSize', '1_000'],
      ['page', '02'],
      ['page', ''],
    ] as const) {
      const result = ListArticlesQuery.safeParse({ [key]: value });
      expect(result.success, `${key}=${JSON.stringify(value)}`).toBe(false);
      const body = validationErrorBody('query', result.error!);
      expect(body.error).toMatchObject({
        status: 422,
        code: 'VALIDATION_FAILED',
        issues: [{ path: key, message: 'must be a decimal integer' }],
      });
    }
  });
});
