import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';

/** Names Debian and other distributions give the Chromium binary, in order of preference. */
const NAMES = ['chromium', 'chromium-browser'];

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * The Chromium a browser test drives: `CHROMIUM_PATH`, else `chromium` / `chromium-browser`
 * on PATH or in /usr/bin. Throws (so the test fails, never skips) with what to install.
 */
export function chromiumPath(env: NodeJS.ProcessEnv = process.env): string {
  const given = env.CHROMIUM_PATH;
  if (given) {
    if (isExecutableFile(given)) return given;
    throw new Error(`CHROMIUM_PATH=${given} is not an executable file`);
  }
  const dirs = [...(env.PATH ?? '').split(delimiter).filter(Boolean), '/usr/bin'];
  for (const dir of dirs) {
    for (const name of NAMES) {
      const candidate = join(dir, name);
      if (isExecutableFile(candidate)) return candidate;
    }
  }
  throw new Error(
    'Chromium is required for the browser tests and is not installed: `apt-get install chromium` ' +
      '(`./pilot test` does it when run as root), or set CHROMIUM_PATH',
  );
}
