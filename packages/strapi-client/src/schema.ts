import type { StrapiErrorIssue } from './errors.ts';

/**
 * Anything with zod's `safeParse` (zod 4 or 3). The parsed output is what the client returns.
 */
export interface StrapiSchema<T> {
  safeParse(data: unknown):
    | { success: true; data: T }
    | {
        success: false;
        error: { issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }> };
      };
}

/** A schema failure as `{ path, message }` issues (at most 20; paths only, never values). */
export function schemaIssues(
  error: { issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }> },
  prefix: string,
): StrapiErrorIssue[] {
  return error.issues.slice(0, 20).map((issue) => ({
    path: [prefix, ...issue.path.map(String)].filter(Boolean).join('.'),
    message: issue.message,
  }));
}
