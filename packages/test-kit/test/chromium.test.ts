import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumPath } from '../src/chromium.ts';

describe('chromiumPath', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pilot-chromium-path-'));
    await writeFile(join(dir, 'chromium-browser'), '#!/bin/sh\n');
    await chmod(join(dir, 'chromium-browser'), 0o755);
    await writeFile(join(dir, 'not-executable'), '');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('uses CHROMIUM_PATH when it is an executable file', () => {
    const path = join(dir, 'chromium-browser');
    expect(chromiumPath({ CHROMIUM_PATH: path })).toBe(path);
  });

  it('refuses a CHROMIUM_PATH that is missing or not executable, naming it', () => {
    expect(() => chromiumPath({ CHROMIUM_PATH: join(dir, 'nope') })).toThrow(/CHROMIUM_PATH=.*nope/);
    expect(() => chromiumPath({ CHROMIUM_PATH: join(dir, 'not-executable') })).toThrow(/not an executable/);
    expect(() => chromiumPath({ CHROMIUM_PATH: dir })).toThrow(/not an executable/);
  });

  it('finds chromium-browser on PATH', () => {
    expect(chromiumPath({ PATH: dir })).toBe(join(dir, 'chromium-browser'));
  });
});
