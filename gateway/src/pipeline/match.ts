import type { CompiledRoute } from '../table.ts';

/**
 * Match: the first route whose method and path pattern take the request. The patterns were
 * compiled to string compares when the table was built (control/compile.ts); the path given
 * here is the normalised, lower-cased one (normalize.ts).
 */
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
