import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

/** The monorepo root: the nearest parent holding pnpm-workspace.yaml. */
export function findRepoRoot(start: string = import.meta.dirname): string {
  let dir = start;
  for (;;) {
    if (existsSync(join(dir, 'pnpm-workspace.yaml'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no pnpm-workspace.yaml above ${start}`);
    dir = parent;
  }
}

export const REPO_ROOT = findRepoRoot();

export function repoPath(...parts: string[]): string {
  return join(REPO_ROOT, ...parts);
}

export function readRepoFile(...parts: string[]): string {
  return readFileSync(repoPath(...parts), 'utf8');
}

export interface WorkspacePackage {
  name: string;
  /** Directory relative to the repo root, e.g. `apps/legacy`. */
  dir: string;
  manifest: {
    name: string;
    dependencies?: Record<string, string>;
    devDependencies?: Record<string, string>;
    [key: string]: unknown;
  };
}

/** Every workspace package (apps/*, packages/*, gateway, load-tests) that has a package.json. */
export function workspacePackages(root: string = REPO_ROOT): WorkspacePackage[] {
  const dirs: string[] = [];
  for (const group of ['apps', 'packages']) {
    const base = join(root, group);
    if (!existsSync(base)) continue;
    for (const name of readdirSync(base)) dirs.push(join(group, name));
  }
  dirs.push('gateway', 'load-tests');
  const packages: WorkspacePackage[] = [];
  for (const dir of dirs) {
    const file = join(root, dir, 'package.json');
    if (!existsSync(file)) continue;
    const manifest = JSON.parse(readFileSync(file, 'utf8')) as WorkspacePackage['manifest'];
    packages.push({ name: manifest.name, dir, manifest });
  }
  return packages;
}

/** Files under `dir` (relative to the repo root) whose name passes `accept`; skips node_modules. */
export function listFiles(
  dir: string,
  accept: (name: string) => boolean,
  root: string = REPO_ROOT,
): string[] {
  const out: string[] = [];
  const walk = (abs: string) => {
    if (!existsSync(abs)) return;
    for (const entry of readdirSync(abs)) {
      if (entry === 'node_modules' || entry.startsWith('.')) continue;
      const path = join(abs, entry);
      if (statSync(path).isDirectory()) walk(path);
      else if (accept(entry)) out.push(relative(root, path));
    }
  };
  walk(join(root, dir));
  return out.sort();
}

/** Node version pinned by scripts/toolchain.sh (PILOT_NODE_VERSION default). */
export function toolchainNodeVersion(root: string = REPO_ROOT): string {
  const text = readFileSync(join(root, 'scripts/toolchain.sh'), 'utf8');
  const match = /PILOT_NODE_VERSION="\$\{PILOT_NODE_VERSION:-([0-9.]+)\}"/.exec(text);
  if (!match) throw new Error('PILOT_NODE_VERSION default not found in scripts/toolchain.sh');
  return match[1]!;
}

/** pnpm version from the root package.json `packageManager` field. */
export function pinnedPnpmVersion(root: string = REPO_ROOT): string {
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    packageManager?: string;
  };
  const match = /^pnpm@([0-9.]+)/.exec(manifest.packageManager ?? '');
  if (!match) throw new Error('root package.json has no packageManager pnpm@x.y.z');
  return match[1]!;
}

/** turbo version from the root package.json devDependencies (exact pin expected). */
export function pinnedTurboVersion(root: string = REPO_ROOT): string {
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    devDependencies?: Record<string, string>;
  };
  const version = manifest.devDependencies?.turbo;
  if (!version) throw new Error('root package.json has no turbo devDependency');
  return version.replace(/^[\^~]/, '');
}
