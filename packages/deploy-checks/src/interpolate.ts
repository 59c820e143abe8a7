/**
 * Compose-file variable interpolation (the subset the Compose Specification defines):
 * `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`, `${VAR?error}`,
 * `${VAR:+alt}`, `${VAR+alt}` and `$$` for a literal dollar. Defaults may nest.
 * Used to check what `docker compose up` would see with a given environment (by default an
 * empty one: what a user gets without a .env file).
 */
export class InterpolationError extends Error {}

export function interpolate(value: string, env: Record<string, string | undefined> = {}): string {
  let out = '';
  let i = 0;
  while (i < value.length) {
    const ch = value[i]!;
    if (ch !== '$') {
      out += ch;
      i += 1;
      continue;
    }
    const next = value[i + 1];
    if (next === '$') {
      out += '$';
      i += 2;
      continue;
    }
    if (next === '{') {
      const end = matchingBrace(value, i + 1);
      out += expand(value.slice(i + 2, end), env);
      i = end + 1;
      continue;
    }
    const bare = /^[A-Za-z_][A-Za-z0-9_]*/.exec(value.slice(i + 1));
    if (bare) {
      out += env[bare[0]] ?? '';
      i += 1 + bare[0].length;
      continue;
    }
    out += ch;
    i += 1;
  }
  return out;
}

function matchingBrace(value: string, open: number): number {
  let depth = 0;
  for (let j = open; j < value.length; j += 1) {
    if (value[j] === '{') depth += 1;
    else if (value[j] === '}') {
      depth -= 1;
      if (depth === 0) return j;
    }
  }
  throw new InterpolationError(`unterminated \${ in "${value}"`);
}

function expand(expr: string, env: Record<string, string | undefined>): string {
  const match = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([\s\S]*))?$/.exec(expr);
  if (!match) throw new InterpolationError(`invalid interpolation "\${${expr}}"`);
  const [, name, op, arg = ''] = match;
  const raw = env[name!];
  const unset = raw === undefined;
  const empty = unset || raw === '';
  switch (op) {
    case undefined:
      return raw ?? '';
    case ':-':
      return empty ? interpolate(arg, env) : raw!;
    case '-':
      return unset ? interpolate(arg, env) : raw!;
    case ':?':
      if (empty) throw new InterpolationError(`${name}: ${arg || 'required'}`);
      return raw!;
    case '?':
      if (unset) throw new InterpolationError(`${name}: ${arg || 'required'}`);
      return raw!;
    case ':+':
      return empty ? '' : interpolate(arg, env);
    case '+':
      return unset ? '' : interpolate(arg, env);
    default:
      throw new InterpolationError(`invalid operator in "\${${expr}}"`);
  }
}

/** Interpolates every string in a parsed YAML tree (keys stay as written, as Compose does). */
export function interpolateDeep<T>(node: T, env: Record<string, string | undefined> = {}): T {
  if (typeof node === 'string') return interpolate(node, env) as T;
  if (Array.isArray(node)) return node.map((item) => interpolateDeep(item, env)) as T;
  if (node && typeof node === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(node)) out[key] = interpolateDeep(value, env);
    return out as T;
  }
  return node;
}
