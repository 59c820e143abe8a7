/**
 * Compares the served response with the shadow's: status, the configured headers, and the body
 * (structurally when it is JSON, byte-wise otherwise), skipping ignored JSON paths such as
 * timestamps and learned noise. Paths are dotted: `data.0.title`; `$status`, `$headers.<name>`
 * and `$body` name the non-JSON parts.
 *
 * A comparison has a verdict only when it is certain. Status or compared headers that differ are
 * a mismatch whatever the bodies are; when they agree but the body cannot be judged (over the
 * capture limit on either side, or the served answer claims JSON and is not), the pair is *not
 * compared*: counting it as a match would bias the rate toward zero, counting it as a mismatch
 * toward one.
 */
export interface CapturedResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** The body was larger than the capture limit: it is not compared. */
  truncated: boolean;
}

export interface Difference {
  path: string;
  primary?: unknown;
  shadow?: unknown;
}

export interface DiffOptions {
  compareHeaders: readonly string[];
  /** Configured `ignore` patterns: a match skips the path and everything below it. */
  ignore: readonly RegExp[];
  /** Learned noise: called with the generalised path (`data.*.id`) of a difference. */
  isNoise?: (generalPath: string) => boolean;
  maxDifferences?: number;
}

export type BodyNotCompared = 'too_large' | 'not_json';

export type Comparison =
  | { compared: true; differences: Difference[] }
  | { compared: false; reason: BodyNotCompared };

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(', ') : v;
}

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\b/i;

/** The answer says it is JSON (`application/json`, `application/problem+json`, …). */
export function declaresJson(headers: CapturedResponse['headers']): boolean {
  const type = headerValue(headers['content-type']);
  return type !== undefined && JSON_TYPE.test(type.trim());
}

type Parsed = { ok: true; value: unknown } | { ok: false };

function parseJson(body: Buffer): Parsed {
  try {
    return { ok: true, value: JSON.parse(body.toString('utf8')) };
  } catch {
    return { ok: false };
  }
}

/** Cheap sniff for bodies without a JSON content type: documents we care about are objects or arrays. */
function sniffJson(body: Buffer): Parsed {
  if (body.length === 0) return { ok: false };
  const first = body[0];
  if (first !== 0x7b && first !== 0x5b) return { ok: false };
  return parseJson(body);
}

/** `data.3.author.id` → `data.*.author.id`: one name for a field of every element of a list. */
export function generalizePath(path: string): string {
  if (!/\d/.test(path)) return path;
  return path
    .split('.')
    .map((seg) => (/^\d+$/.test(seg) ? '*' : seg))
    .join('.');
}

/** Structural comparison with a verdict (see the module comment). */
export function compareResponses(
  primary: CapturedResponse,
  shadow: CapturedResponse,
  options: DiffOptions,
): Comparison {
  const max = options.maxDifferences ?? 50;
  const out: Difference[] = [];
  const ignored = (path: string) => options.ignore.some((re) => re.test(path));
  const noise = options.isNoise;
  const skip = noise ? (path: string) => noise(generalizePath(path)) : () => false;
  if (primary.status !== shadow.status)
    out.push({ path: '$status', primary: primary.status, shadow: shadow.status });
  for (const name of options.compareHeaders) {
    const h = name.toLowerCase();
    const a = headerValue(primary.headers[h]);
    const b = headerValue(shadow.headers[h]);
    const path = `$headers.${h}`;
    if (a !== b && !ignored(path) && !skip(path)) out.push({ path, primary: a, shadow: b });
  }
  const certain = out.length > 0;
  if (primary.truncated || shadow.truncated) {
    return certain ? { compared: true, differences: out } : { compared: false, reason: 'too_large' };
  }
  if (primary.body.equals(shadow.body)) return { compared: true, differences: out };
  let a: Parsed;
  let b: Parsed;
  if (declaresJson(primary.headers)) {
    a = parseJson(primary.body);
    // The reference answer is broken: there is nothing to hold the shadow's against.
    if (!a.ok)
      return certain ? { compared: true, differences: out } : { compared: false, reason: 'not_json' };
    // The candidate's answer is not JSON where the reference's is: that is a difference.
    b = parseJson(shadow.body);
  } else {
    a = sniffJson(primary.body);
    b = a.ok ? sniffJson(shadow.body) : { ok: false };
  }
  if (a.ok && b.ok) {
    walk(a.value, b.value, '', out, ignored, skip, max);
  } else if (!ignored('$body') && !skip('$body')) {
    out.push({ path: '$body', primary: preview(primary.body), shadow: preview(shadow.body) });
  }
  return { compared: true, differences: out.slice(0, max) };
}

/**
 * The differences only. A pair that cannot be judged has none: its status and headers agreed
 * (otherwise it would be judged). Kept for callers that want a list; the shadow uses
 * compareResponses, which says whether the pair was compared at all.
 */
export function diffResponses(
  primary: CapturedResponse,
  shadow: CapturedResponse,
  options: DiffOptions,
): Difference[] {
  const result = compareResponses(primary, shadow, options);
  return result.compared ? result.differences : [];
}

function preview(body: Buffer): string {
  return body.length > 200 ? `${body.subarray(0, 200).toString('utf8')}…` : body.toString('utf8');
}

function kind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

function walk(
  a: unknown,
  b: unknown,
  path: string,
  out: Difference[],
  ignored: (p: string) => boolean,
  noise: (p: string) => boolean,
  max: number,
): void {
  if (out.length >= max) return;
  if (path !== '' && ignored(path)) return;
  const ka = kind(a);
  const kb = kind(b);
  if (ka !== kb) {
    const p = path || '$';
    if (!noise(p)) out.push({ path: p, primary: a, shadow: b });
    return;
  }
  if (ka === 'array') {
    const x = a as unknown[];
    const y = b as unknown[];
    const n = Math.max(x.length, y.length);
    for (let i = 0; i < n; i++) {
      const p = path ? `${path}.${i}` : String(i);
      if (i >= x.length || i >= y.length) {
        if (!ignored(p) && !noise(p)) out.push({ path: p, primary: x[i], shadow: y[i] });
      } else walk(x[i], y[i], p, out, ignored, noise, max);
      if (out.length >= max) return;
    }
    return;
  }
  if (ka === 'object') {
    const x = a as Record<string, unknown>;
    const y = b as Record<string, unknown>;
    const keys = new Set([...Object.keys(x), ...Object.keys(y)]);
    for (const k of keys) {
      const p = path ? `${path}.${k}` : k;
      if (!Object.hasOwn(x, k) || !Object.hasOwn(y, k)) {
        if (!ignored(p) && !noise(p)) out.push({ path: p, primary: x[k], shadow: y[k] });
      } else walk(x[k], y[k], p, out, ignored, noise, max);
      if (out.length >= max) return;
    }
    return;
  }
  if (a !== b) {
    const p = path || '$';
    if (!noise(p)) out.push({ path: p, primary: a, shadow: b });
  }
}
