/**
 * Hex checked and read without a branch per character (lower case for `traceparent`, either
 * case where @opentelemetry/api accepts it): the digits of a random id
 * are letters or numbers at random, so a `c >= 48 && c <= 57 || …` test per character
 * mispredicts often (a `traceparent` took ~165 ns that way on the development machine, ~60 ns
 * with these tables).
 */

/** 1 for the char codes of lower-case hex digits. */
const LOWER_HEX = new Uint8Array(128);
/** A hex digit's value by char code, either case (0 for anything else: check first). */
const HEX_VALUE = new Uint8Array(128);
/** 1 for hex digits of either case (what @opentelemetry/api's isValidTraceId accepts). */
const ANY_HEX = new Uint8Array(128);
for (const [value, digit] of [...'0123456789abcdef'].entries()) {
  LOWER_HEX[digit.charCodeAt(0)] = 1;
  HEX_VALUE[digit.charCodeAt(0)] = value;
  ANY_HEX[digit.charCodeAt(0)] = 1;
  ANY_HEX[digit.toUpperCase().charCodeAt(0)] = 1;
  HEX_VALUE[digit.toUpperCase().charCodeAt(0)] = value;
}

export const NOT_HEX = 0;
export const ZERO = 1;
export const NON_ZERO = 2;

/** Whether `s[from, to)` is lower-case hex (NOT_HEX), and all zeros (ZERO) or not (NON_ZERO). */
export function scanHex(s: string, from: number, to: number): number {
  let bad = 0;
  let nonZero = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    bad |= (c >>> 7) | (LOWER_HEX[c & 127]! ^ 1);
    nonZero |= c ^ 48;
  }
  return bad !== 0 ? NOT_HEX : nonZero !== 0 ? NON_ZERO : ZERO;
}

/** A lower-case hex digit's value (checked before). */
export function hexDigit(c: number): number {
  return HEX_VALUE[c & 127]!;
}

/**
 * The XOR of a 32-character trace id's four 32-bit words (what @opentelemetry/sdk-trace's
 * TraceIdRatioBasedSampler computes), or -1 for an id the API calls invalid (not 32 hex digits
 * of either case, or all zeros).
 */
export function traceIdWordsXor(traceId: string): number {
  if (traceId.length !== 32) return -1;
  let bad = 0;
  let nonZero = 0;
  let xor = 0;
  for (let i = 0; i < 32; i++) {
    const c = traceId.charCodeAt(i);
    bad |= (c >>> 7) | (ANY_HEX[c & 127]! ^ 1);
    nonZero |= c ^ 48;
    xor ^= HEX_VALUE[c & 127]! << ((7 - (i & 7)) * 4);
  }
  return bad !== 0 || nonZero === 0 ? -1 : xor >>> 0;
}

/**
 * @opentelemetry/api's isValidTraceId (length 32) / isValidSpanId (length 16): hex of either
 * case, not all zeros — without comparing the id with the all-zero string (a call into the
 * runtime for a sliced string).
 */
export function isValidId(id: unknown, length: number): boolean {
  if (typeof id !== 'string' || id.length !== length) return false;
  let bad = 0;
  let nonZero = 0;
  for (let i = 0; i < length; i++) {
    const c = id.charCodeAt(i);
    bad |= (c >>> 7) | (ANY_HEX[c & 127]! ^ 1);
    nonZero |= c ^ 48;
  }
  return bad === 0 && nonZero !== 0;
}
