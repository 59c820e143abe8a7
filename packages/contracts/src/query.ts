import { z } from 'zod';

/** The one spelling of an integer this API accepts in a query string: no sign but a minus, no leading zeros, no "-0". */
export const CANONICAL_INTEGER = /^(?:0|-?[1-9][0-9]*)$/;

/**
 * An integer query parameter, strictly: only a canonical decimal integer ("2", "-3", "0").
 * Everything JavaScript's Number() would also accept is refused with one message:
 * "0x2", "0b11", "0o7", "2e0", " 2", "+2", "2.0", "02", "-0", "1_000", "" and "Infinity".
 * (z.coerce.number() accepts most of those, so each app used to read "0x2" as 2.)
 */
/**
 * A spelling past the safe range is still an integer, only too big (or small): clamped, the
 * range check reports it instead of Number()'s Infinity.
 */
const clampToSafe = (text: string) =>
  Math.max(-Number.MAX_SAFE_INTEGER, Math.min(Number.MAX_SAFE_INTEGER, Number(text)));

export function queryInteger(options: { min: number; max: number }) {
  return z
    .string()
    .regex(CANONICAL_INTEGER, 'must be a decimal integer')
    .transform(clampToSafe)
    .pipe(z.number().int().min(options.min).max(options.max))
    .describe(`A decimal integer from ${options.min} to ${options.max}.`);
}
