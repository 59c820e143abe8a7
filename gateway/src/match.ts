import type { CompiledRoute } from './table.ts';

/**
 * Step 2 of the pipeline: find the first route whose path pattern and method match.
 * Patterns are compiled once per table load into plain string comparisons; the request
 * path given here is already normalised (see normalize.ts) and lower-cased, so the
 * gateway matches case-insensitively, exactly like an Express backend would.
 *
 * Pattern forms: `/exact`, `/dir/*` (the path itself and everything below it),
 * `/prefix*` (raw string prefix, so `/articles*` also takes `/articles-archive`).
 */
export type PathTest = (lowerPath: string) => boolean;

export function compilePattern(pattern: string): PathTest {
  const p = pattern.toLowerCase();
  if (p === '/*' || p === '*' || p === '/**') return () => true;
  if (p.endsWith('/*')) {
    const base = p.slice(0, -2);
    const dir = `${base}/`;
    return (path) => path === base || path.startsWith(dir);
  }
  if (p.endsWith('*')) {
    const prefix = p.slice(0, -1);
    return (path) => path.startsWith(prefix);
  }
  return (path) => path === p || path === `${p}/`;
}

export function compilePatterns(patterns: readonly string[]): PathTest {
  const tests = patterns.map(compilePattern);
  if (tests.length === 1) return tests[0]!;
  return (path) => {
    for (const t of tests) if (t(path)) return true;
    return false;
  };
}

/** `null` means every method; GET implies HEAD. */
export function compileMethods(methods: readonly string[] | undefined): ReadonlySet<string> | null {
  if (!methods) return null;
  const set = new Set(methods);
  if (set.has('GET')) set.add('HEAD');
  return set;
}

export function matchRoute(
  routes: readonly CompiledRoute[],
  lowerPath: string,
  method: string,
): CompiledRoute | undefined {
  for (const route of routes) {
    if ((route.methods === null || route.methods.has(method)) && route.test(lowerPath)) return route;
  }
  return undefined;
}
