import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SERVICE_NODE_FLAGS } from '../lib/node-flags.ts';

/**
 * Every way a service starts carries the same V8 flags (the benches measure with them): the
 * copies that cannot import the constant are read here.
 */
const root = join(import.meta.dirname, '..', '..');
const read = (path: string) => readFileSync(join(root, path), 'utf8');

describe('SERVICE_NODE_FLAGS', () => {
  it.each(['gateway', 'apps/legacy', 'apps/modern'])("is in %s's start script", (dir) => {
    const start = (JSON.parse(read(`${dir}/package.json`)) as { scripts: { start: string } }).scripts.start;
    expect(start).toBe(['node', ...SERVICE_NODE_FLAGS, 'src/server.ts'].join(' '));
  });

  it("is in the service image's CMD", () => {
    const cmd = /^CMD (\[.*\])$/m.exec(read('docker/service.Dockerfile'))?.[1];
    expect(cmd && JSON.parse(cmd)).toEqual(['node', ...SERVICE_NODE_FLAGS, 'src/server.ts']);
  });

  it('is where deploy-checks boots an image recipe', () => {
    const recipe = read('packages/deploy-checks/src/recipe.ts');
    expect(recipe).toContain(`[${[...SERVICE_NODE_FLAGS, 'src/server.ts'].map((a) => `'${a}'`).join(', ')}]`);
  });
});
