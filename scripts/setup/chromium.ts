// The Chromium the browser tests drive (through playwright-core): CHROMIUM_PATH, else chromium on
// PATH, else installed with apt-get when root, else one line saying what to install.
import { spawnSync } from 'node:child_process';
import { chromiumPath } from '../../packages/test-kit/src/chromium.ts';
import { ensureCommand, type SetupContext, SetupError } from './commands.ts';

export async function chromiumForTests(context: SetupContext): Promise<string> {
  let path: string;
  if (context.env.CHROMIUM_PATH) {
    try {
      path = chromiumPath(context.env);
    } catch (error) {
      throw new SetupError((error as Error).message);
    }
  } else {
    path = await ensureCommand(
      { names: ['chromium', 'chromium-browser'], aptPackage: 'chromium', neededFor: 'the browser tests' },
      context,
    );
  }
  // A binary that is there but cannot run (missing libraries) fails here, not in the middle of a test.
  const probe = spawnSync(path, ['--headless', '--no-sandbox', '--version'], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  const version = probe.stdout?.trim();
  if (probe.status !== 0 || !version) {
    const why = (probe.stderr || probe.error?.message || `exit ${probe.status}`).trim().split('\n')[0];
    throw new SetupError(
      `Chromium at ${path} does not run (${why}): reinstall it (apt-get install --reinstall chromium)`,
    );
  }
  context.log(`chromium: ${path} (${version})`);
  return path;
}
