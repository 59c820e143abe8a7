// Paths on the command line as the caller meant them: `pnpm compare --baseline x.json` or
// `pnpm report x.json` from the repository root run in load-tests/ (pnpm --filter), and pnpm
// keeps the caller's directory in INIT_CWD.
import { resolve } from 'node:path';

export function fromCaller(path: string, env: Record<string, string | undefined> = process.env): string {
  return resolve(env.INIT_CWD ?? process.cwd(), path);
}
