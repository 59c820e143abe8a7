import { ArticleParams } from '@pilot/contracts';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PARAMS_MEMO_SIZE, RequestValidationError, zodValidatorCompiler } from '../src/lib/validation.ts';

type Result = { value?: unknown; error?: unknown };
const compile = (httpPart: string) =>
  zodValidatorCompiler({ schema: ArticleParams, httpPart, method: 'GET', url: '/articles/:slug' }) as (
    data: unknown,
  ) => Result;

/** What the compiler must answer: zod's own verdict on the same input. */
function expectZodVerdict(result: Result, data: unknown) {
  const zod = ArticleParams.safeParse(data);
  if (zod.success) {
    expect(result.error).toBeUndefined();
    expect(result.value).toEqual(zod.data);
  } else {
    expect(result.error).toBeInstanceOf(RequestValidationError);
    expect((result.error as RequestValidationError).zodError.issues).toEqual(zod.error.issues);
  }
}

const slugs = fc.oneof(
  fc.stringMatching(/^[a-z0-9]+(?:-[a-z0-9]+)*$/),
  fc.string({ unit: 'grapheme' }),
  fc.string({ unit: 'binary' }),
  fc.constantFrom('', '__proto__', 'constructor', 'a'.repeat(500)),
);

describe('path parameters, remembered once accepted', () => {
  it('answers what zod answers, the first time and every time after (generated values and shapes)', () => {
    const validate = compile('params');
    const shapes = fc.oneof(
      slugs.map((slug) => ({ slug })),
      fc.tuple(slugs, slugs).map(([slug, other]) => ({ slug, other })),
      slugs.map((id) => ({ id })), // another name than the route's: the strict schema refuses it
      fc.constantFrom(null, undefined, {}, { slug: 7 }, { slug: ['a'] }),
    );
    fc.assert(
      fc.property(fc.array(shapes, { maxLength: 20 }), (inputs) => {
        for (const data of [...inputs, ...inputs]) expectZodVerdict(validate(data), data);
      }),
      { numRuns: 300 },
    );
  });

  it('shares a frozen value between requests with the same slug, and stays bounded', () => {
    const validate = compile('params');
    const first = validate({ slug: 'hello-world' });
    const again = validate({ slug: 'hello-world' });
    expect(again.value).toBe(first.value);
    expect(Object.isFrozen(first.value)).toBe(true);
    // many distinct slugs: past the bound it starts over, and every answer stays right
    for (let i = 0; i < PARAMS_MEMO_SIZE * 2 + 5; i++)
      expectZodVerdict(validate({ slug: `s-${i}` }), { slug: `s-${i}` });
    expect(validate({ slug: 'hello-world' }).value).toEqual({ slug: 'hello-world' });
  });

  it('leaves other request parts alone: a body is parsed afresh each time', () => {
    const validate = compile('body');
    const a = validate({ slug: 'x' });
    const b = validate({ slug: 'x' });
    expect(a.value).toEqual(b.value);
    expect(a.value).not.toBe(b.value);
  });
});
