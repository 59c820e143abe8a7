import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumForTests } from '../setup/chromium.ts';
import { ensureCommand, SetupError } from '../setup/commands.ts';

describe('ensureCommand and chromiumForTests (fake binaries on a private PATH)', () => {
  let dir: string;
  let bin: string;
  let empty: string;
  const logs: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pilot-setup-'));
    bin = join(dir, 'bin');
    empty = join(dir, 'empty');
    await mkdir(bin);
    await mkdir(empty);
    await writeFile(join(bin, 'chromium'), '#!/bin/sh\necho "Chromium 1.2.3 fake"\n');
    await writeFile(
      join(bin, 'broken-chromium'),
      '#!/bin/sh\necho "error while loading shared libraries" >&2\nexit 127\n',
    );
    await chmod(join(bin, 'chromium'), 0o755);
    await chmod(join(bin, 'broken-chromium'), 0o755);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('finds a command on PATH without installing anything', async () => {
    const path = await ensureCommand(
      { names: ['chromium'], aptPackage: 'chromium', neededFor: 'x' },
      { log: (l) => logs.push(l), env: { PATH: bin }, canInstall: false },
    );
    expect(path).toBe(join(bin, 'chromium'));
  });

  it('when missing and not allowed to install: one line with the exact package to install', async () => {
    const attempt = chromiumForTests({ log: () => {}, env: { PATH: empty }, canInstall: false });
    await expect(attempt).rejects.toBeInstanceOf(SetupError);
    await expect(attempt).rejects.toThrow(
      'the browser tests need chromium, which is not installed: run `sudo apt-get install chromium` ' +
        '(or run ./pilot test as root, which installs it), then try again',
    );
  });

  it('uses CHROMIUM_PATH, checks that it runs and reports its version', async () => {
    const seen: string[] = [];
    const path = await chromiumForTests({
      log: (l) => seen.push(l),
      env: { PATH: empty, CHROMIUM_PATH: join(bin, 'chromium') },
      canInstall: false,
    });
    expect(path).toBe(join(bin, 'chromium'));
    expect(seen).toEqual([`chromium: ${join(bin, 'chromium')} (Chromium 1.2.3 fake)`]);
  });

  it('refuses a Chromium that is there but does not run, and a CHROMIUM_PATH that is not there', async () => {
    await expect(
      chromiumForTests({
        log: () => {},
        env: { CHROMIUM_PATH: join(bin, 'broken-chromium') },
        canInstall: false,
      }),
    ).rejects.toThrow(/does not run \(error while loading shared libraries\)/);
    await expect(
      chromiumForTests({ log: () => {}, env: { CHROMIUM_PATH: join(bin, 'nope') }, canInstall: true }),
    ).rejects.toThrow(/CHROMIUM_PATH=.*nope is not an executable file/);
  });
});
