/**
 * Compares the served response with the shadow's: status, the configured headers, and the body
 * (structurally when both are JSON, byte-wise otherwise), skipping ignored JSON paths such as
 * timestamps. Paths are dotted: `data.0.title`; `$status`, `$headers.<name>` and `$body` name
 * the non-JSON parts.
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
  ignore: readonly RegExp[];
  maxDifferences?: number;
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v.join(', ') : v;
}

function parseJson(body: Buffer): { ok: true; value: unknown } | { ok: false } {
  if (body.length === 0) return { ok: false };
  const first = body[0];
  // cheap sniff: JSON documents we care about are objects or arrays
  if (first !== 0x7b && first !== 0x5b) return { ok: false };
  try {
    return { ok: true, value: JSON.parse(body.toString('utf8')) };
  } catch {
    return { ok: false };
  }
}

export function diffResponses(
  primary: CapturedResponse,
  shadow: CapturedResponse,
  options: DiffOptions,
): Difference[] {
  const max = options.maxDifferences ?? 50;
  const out: Difference[] = [];
  const ignored = (path: string) => options.ignore.some((re) => re.test(path));
  if (primary.status !== shadow.status)
    out.push({ path: '$status', primary: primary.status, shadow: shadow.status });
  for (const name of options.compareHeaders) {
    const h = name.toLowerCase();
    const a = headerValue(primary.headers[h]);
    const b = headerValue(shadow.headers[h]);
    if (a !== b && !ignored(`$headers.${h}`)) out.push({ path: `$headers.${h}`, primary: a, shadow: b });
  }
  if (primary.truncated || shadow.truncated) return out;
  const a = parseJson(primary.body);
  const b = parseJson(shadow.body);
  if (a.ok && b.ok) {
    walk(a.value, b.value, '', out, ignored, max);
  } else if (!primary.body.equals(shadow.body) && !ignored('$body')) {
    out.push({ path: '$body', primary: preview(primary.body), shadow: preview(shadow.body) });
  }
  return out.slice(0, max);
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
  max: number,
): void {
  if (out.length >= max) return;
  if (path !== '' && ignored(path)) return;
  const ka = kind(a);
  const kb = kind(b);
  if (ka !== kb) {
    out.push({ path: path || '$', primary: a, shadow: b });
    return;
  }
  if (ka === 'array') {
    const x = a as unknown[];
    const y = b as unknown[];
    const n = Math.max(x.length, y.length);
    for (let i = 0; i < n; i++) {
      const p = path ? `${path}.${i}` : String(i);
      if (i >= x.length || i >= y.length) {
        if (!ignored(p)) out.push({ path: p, primary: x[i], shadow: y[i] });
      } else walk(x[i], y[i], p, out, ignored, max);
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
      if (!(k in x) || !(k in y)) {
        if (!ignored(p)) out.push({ path: p, primary: x[k], shadow: y[k] });
      } else walk(x[k], y[k], p, out, ignored, max);
      if (out.length >= max) return;
    }
    return;
  }
  if (a !== b) out.push({ path: path || '$', primary: a, shadow: b });
}
