import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  type DockerfileRules,
  filledEnv,
  lintDockerfile,
  listFiles,
  loadCompose,
  parseDockerfile,
  pinnedPnpmVersion,
  pinnedTurboVersion,
  readRepoFile,
  repoPath,
  syntaxProblems,
  toolchainNodeVersion,
} from '../src/index.ts';

const rules: DockerfileRules = {
  nodeVersion: toolchainNodeVersion(),
  pnpmVersion: pinnedPnpmVersion(),
  turboVersion: pinnedTurboVersion(),
};
const dockerfiles = listFiles('docker', (name) => name.endsWith('Dockerfile'));

describe('docker/*.Dockerfile', () => {
  it('are the ones docker-compose.yml builds', () => {
    const { resolved } = loadCompose(undefined, filledEnv());
    const built = new Set(
      Object.values(resolved.services).flatMap((s) =>
        s.build && typeof s.build === 'object' ? [s.build.dockerfile!] : [],
      ),
    );
    expect([...built].sort()).toEqual(dockerfiles);
    expect(dockerfiles).toEqual(['docker/cms.Dockerfile', 'docker/service.Dockerfile']);
  });

  for (const file of dockerfiles) {
    describe(file, () => {
      const text = readFileSync(repoPath(file), 'utf8');
      const parsed = parseDockerfile(text);

      it('parses cleanly (dockerfile-utils validation)', () => {
        expect(syntaxProblems(text)).toEqual([]);
      });

      it('holds every hadolint-style and project rule', () => {
        expect(lintDockerfile(text, rules)).toEqual([]);
      });

      it('is multi-stage, isolates production dependencies, ends non-root with a HEALTHCHECK', () => {
        expect(parsed.stages.length).toBeGreaterThanOrEqual(3);
        expect(text).toMatch(/turbo prune/);
        expect(text).toMatch(/pnpm install --prod --frozen-lockfile/);
        const final = parsed.stages.at(-1)!;
        expect(final.name).toBe('runtime');
        expect(final.image).toBe(`node:${rules.nodeVersion}-bookworm-slim`);
        expect(final.instructions.filter((i) => i.keyword === 'USER').at(-1)?.args).toBe('node');
        expect(final.instructions.some((i) => i.keyword === 'HEALTHCHECK')).toBe(true);
      });

      it('pins every base image to the toolchain Node (no latest)', () => {
        for (const stage of parsed.stages)
          expect(stage.image).toMatch(new RegExp(`^node:${rules.nodeVersion.replace(/\./g, '\\.')}-`));
      });
    });
  }
});

describe('the Dockerfile linter catches what it claims to', () => {
  const lint = (text: string) => lintDockerfile(text, rules).map((p) => p.split(/[ :]/)[0]);

  it('flags a single-stage root image on latest with a shell-form CMD', () => {
    const bad = [
      'FROM node:latest',
      'WORKDIR app',
      'COPY . .',
      'RUN npm install -g pnpm && cd app && pnpm install',
      'CMD node server.js',
    ].join('\n');
    expect(lint(bad).sort()).toEqual(
      [
        ...['DL3000', 'DL3002', 'DL3003', 'DL3007', 'DL3016', 'DL3025'],
        ...['PL002', 'PL003', 'PL004', 'PL006', 'PL007', 'PL008', 'PL009', 'PL011', 'PL013'],
        'syntax', // dockerfile-utils: WORKDIR paths should be absolute
      ].sort(),
    );
  });

  it('flags network fetches, root USER, a dangling COPY --from and an unpinned pnpm/turbo', () => {
    const bad = [
      'ARG NODE_VERSION=24.21.0',
      'ARG PNPM_VERSION=9.0.0',
      `FROM node:\${NODE_VERSION}-bookworm-slim AS build`,
      'RUN apt-get update && apt-get install -y curl',
      'RUN npm i -g turbo@1.0.0 && turbo prune x --docker',
      'RUN npm i -g pnpm@9.0.0 && pnpm install --prod --frozen-lockfile',
      `FROM node:\${NODE_VERSION}-bookworm-slim AS runtime`,
      'COPY --from=bulid /app /app',
      'USER root',
      'HEALTHCHECK CMD ["node", "-e", "1"]',
      'CMD ["node", "x.ts"]',
    ].join('\n');
    // PL009 twice: PNPM_VERSION 9.0.0 differs from packageManager, turbo has no TURBO_VERSION pin.
    expect(lint(bad).sort()).toEqual(['DL3002', 'DL3022', 'PL005', 'PL009', 'PL009'].sort());
  });

  it('reports syntax problems from dockerfile-utils', () => {
    expect(syntaxProblems('FROM node:24\nHEALTHCHECK --intervall=5s CMD true\n')).toEqual([
      'line 2: Unknown flag: intervall',
    ]);
  });
});

describe('.dockerignore', () => {
  const patterns = readRepoFile('.dockerignore')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));

  it('keeps dependencies, VCS data, local state and secrets out of the build context', () => {
    for (const must of ['**/node_modules', '.git', '**/.env', 'apps/cms/.tmp', '**/test-results.json']) {
      expect(patterns, must).toContain(must);
    }
  });

  it('does not hide what turbo prune and the images need', () => {
    const needed = [
      'package.json',
      'pnpm-lock.yaml',
      'pnpm-workspace.yaml',
      'turbo.json',
      'apps/legacy/src/server.ts',
      'gateway/routes.yaml',
    ];
    const toRegex = (p: string) =>
      new RegExp(
        `^${p
          .replace(/[.+^$()|[\]\\]/g, '\\$&')
          .replace(/\*\*\//g, '(.*/)?')
          .replace(/\*/g, '[^/]*')}(/.*)?$`,
      );
    for (const path of needed) {
      const hits = patterns.filter((p) => !p.startsWith('!') && toRegex(p).test(path));
      expect(hits, path).toEqual([]);
    }
  });
});
