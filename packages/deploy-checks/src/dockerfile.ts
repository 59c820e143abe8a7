import { createRequire } from 'node:module';

/**
 * Dockerfile checks without Docker. Parsing and instruction-level validation come from
 * dockerfile-utils (the engine behind the Docker language server: unknown instructions and
 * flags, malformed arguments, duplicate stage names, several HEALTHCHECKs in a stage...).
 * On top, hadolint-style rules (their hadolint code where one exists) and the project's own.
 */
const require = createRequire(import.meta.url);
const dockerfileUtils = require('dockerfile-utils') as {
  validate(content: string): Array<{ severity: number; message: string; range: { start: { line: number } } }>;
};

export interface Instruction {
  /** Upper-case keyword: FROM, RUN, COPY, ... */
  keyword: string;
  /** Everything after the keyword, continuation lines joined. */
  args: string;
  /** 1-based line of the keyword. */
  line: number;
}

export interface Stage {
  index: number;
  name: string | null;
  /** Image as written (ARGs not expanded). */
  from: string;
  /** Image with the global ARG defaults substituted. */
  image: string;
  instructions: Instruction[];
}

export interface ParsedDockerfile {
  /** ARGs declared before the first FROM, with their defaults. */
  globalArgs: Record<string, string>;
  stages: Stage[];
  instructions: Instruction[];
}

/** Splits a Dockerfile into instructions (comments dropped, `\` continuations joined). */
export function parseDockerfile(text: string): ParsedDockerfile {
  const instructions: Instruction[] = [];
  const lines = text.split(/\r?\n/);
  let current: Instruction | null = null;
  for (let i = 0; i < lines.length; i += 1) {
    const raw = lines[i]!;
    const trimmed = raw.trim();
    if (current === null) {
      if (trimmed === '' || trimmed.startsWith('#')) continue;
      const match = /^([A-Za-z]+)\s*(.*)$/.exec(trimmed)!;
      current = { keyword: match[1]!.toUpperCase(), args: '', line: i + 1 };
      const rest = match[2] ?? '';
      if (rest.endsWith('\\')) current.args = rest.slice(0, -1).trimEnd();
      else {
        current.args = rest;
        instructions.push(current);
        current = null;
      }
      continue;
    }
    if (trimmed.startsWith('#')) continue; // comment inside a continuation
    if (trimmed.endsWith('\\')) current.args += ` ${trimmed.slice(0, -1).trim()}`;
    else {
      current.args += ` ${trimmed}`;
      instructions.push(current);
      current = null;
    }
  }
  if (current) instructions.push(current);

  const globalArgs: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const ins of instructions) {
    if (ins.keyword === 'FROM') {
      const parts = ins.args.split(/\s+/).filter((p) => !p.startsWith('--'));
      const from = parts[0] ?? '';
      const asIndex = parts.findIndex((p) => p.toUpperCase() === 'AS');
      stages.push({
        index: stages.length,
        name: asIndex >= 0 ? (parts[asIndex + 1] ?? null) : null,
        from,
        image: substitute(from, globalArgs),
        instructions: [],
      });
      continue;
    }
    if (stages.length === 0) {
      if (ins.keyword === 'ARG') {
        const [name, ...value] = ins.args.split('=');
        globalArgs[name!.trim()] = value.join('=').replace(/^"|"$/g, '');
      }
      continue;
    }
    stages.at(-1)!.instructions.push(ins);
  }
  return { globalArgs, stages, instructions };
}

function substitute(text: string, vars: Record<string, string>): string {
  return text.replace(
    /\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (whole, a, b) => vars[a ?? b] ?? whole,
  );
}

export interface DockerfileRules {
  /** Required base image repository and version prefix, e.g. node + 24.21.0. */
  nodeVersion: string;
  pnpmVersion: string;
  turboVersion: string;
}

/** Problems found by dockerfile-utils (syntax and instruction-level validation). */
export function syntaxProblems(text: string): string[] {
  return dockerfileUtils.validate(text).map((d) => `line ${d.range.start.line + 1}: ${d.message}`);
}

const NETWORK_TOOLS = /\b(apt-get|apt|apk|yum|dnf|curl|wget|git clone)\b/;

/**
 * hadolint-style and project rules. Returns problems, each prefixed with its rule id.
 * Project rules (PL*): multi-stage; production dependencies only (turbo prune or pnpm deploy,
 * `pnpm install --prod --frozen-lockfile`); pinned pnpm/turbo matching the repo; Node 24
 * base images pinned to scripts/toolchain.sh's version; non-root final USER; a HEALTHCHECK;
 * no network at build beyond the npm registry.
 */
export function lintDockerfile(text: string, rules: DockerfileRules): string[] {
  const problems = syntaxProblems(text).map((p) => `syntax ${p}`);
  const { stages, globalArgs, instructions } = parseDockerfile(text);
  const add = (id: string, ins: Instruction | null, message: string) =>
    problems.push(`${id}${ins ? ` line ${ins.line}` : ''}: ${message}`);

  if (stages.length === 0) {
    add('PL001', null, 'no FROM');
    return problems;
  }
  const stageNames = new Set<string>();
  for (const stage of stages) {
    const fromIns = instructions.find((i) => i.keyword === 'FROM' && i.args.startsWith(stage.from))!;
    // DL3006 / DL3007: always tag the image explicitly, never :latest.
    const image = stage.image;
    if (stageNames.has(image)) continue; // FROM an earlier stage
    if (image.includes('$')) add('DL3006', fromIns, `base image ${stage.from} has an ARG without a default`);
    const tag = image.includes(':') ? image.slice(image.lastIndexOf(':') + 1) : '';
    if (!tag) add('DL3006', fromIns, `base image ${image} has no explicit tag`);
    if (tag === 'latest') add('DL3007', fromIns, `base image ${image} uses latest`);
    // Project: Node 24 from the official image, the exact version the toolchain pins.
    if (!image.startsWith(`node:${rules.nodeVersion}-`)) {
      add(
        'PL002',
        fromIns,
        `base image ${image} is not node:${rules.nodeVersion}-<variant> (scripts/toolchain.sh)`,
      );
    }
    if (!stage.name)
      add('PL003', fromIns, 'every stage is named (FROM ... AS name) so COPY --from is readable');
    else stageNames.add(stage.name);
  }
  if (stages.length < 2) add('PL004', null, 'not a multi-stage build');

  for (const ins of instructions) {
    const args = ins.args;
    if (ins.keyword === 'COPY' || ins.keyword === 'ADD') {
      const from = /--from=(\S+)/.exec(args)?.[1];
      // DL3022: COPY --from should reference a previously defined FROM alias.
      if (from && !stageNames.has(from))
        add('DL3022', ins, `COPY --from=${from} is not a stage of this file`);
    }
    if (ins.keyword === 'ADD' && !/https?:\/\//.test(args))
      add('DL3020', ins, 'use COPY instead of ADD for files');
    if (ins.keyword === 'ADD' && /https?:\/\//.test(args))
      add('PL005', ins, 'ADD <url> downloads at build time');
    if (ins.keyword === 'WORKDIR' && !args.startsWith('/'))
      add('DL3000', ins, `WORKDIR ${args} is not absolute`);
    if (ins.keyword === 'RUN') {
      if (/(^|&&|;|\|\|)\s*cd\s/.test(args)) add('DL3003', ins, 'use WORKDIR to switch to a directory');
      if (/\bsudo\b/.test(args)) add('DL3004', ins, 'do not use sudo');
      if (NETWORK_TOOLS.test(args)) add('PL005', ins, 'fetches from the network beyond the npm registry');
      // DL3016: pin versions in npm (global installs).
      for (const m of args.matchAll(/(?<![\w-])npm (?:install|i) [^&;]*?(?:--global|-g)[^&;]*/g)) {
        const pkgs = m[0]
          .split(/\s+/)
          .slice(2)
          .filter((p) => p && !p.startsWith('-'));
        for (const pkg of pkgs) {
          const bare = pkg.replace(/^"|"$/g, '');
          if (!/@(\d|\$\{)/.test(bare.replace(/^@/, '')))
            add('DL3016', ins, `npm package ${bare} is not pinned`);
        }
      }
      if (/\bpnpm (?:install|i)\b/.test(args)) {
        if (!args.includes('--frozen-lockfile')) add('PL006', ins, 'pnpm install without --frozen-lockfile');
        if (!/--prod\b|--production\b/.test(args))
          add('PL007', ins, 'pnpm install without --prod (dev dependencies in the image)');
      }
    }
    if (['CMD', 'ENTRYPOINT'].includes(ins.keyword) && !args.trim().startsWith('[')) {
      add(
        'DL3025',
        ins,
        `${ins.keyword} in shell form; use the JSON (exec) form so signals reach the process`,
      );
    }
    if (ins.keyword === 'EXPOSE') {
      for (const port of args.split(/\s+/)) {
        const resolved = substitute(port, globalArgs).split('/')[0]!;
        if (/^\d+$/.test(resolved) && (Number(resolved) < 1 || Number(resolved) > 65_535)) {
          add('DL3011', ins, `EXPOSE ${port} is not a valid port`);
        }
      }
    }
  }

  const text1 = instructions.map((i) => `${i.keyword} ${i.args}`).join('\n');
  if (!/\bturbo prune\b/.test(text1) && !/\bpnpm\b[^\n]*\bdeploy\b/.test(text1)) {
    add('PL008', null, 'production dependencies are not isolated with turbo prune or pnpm deploy');
  }
  const pnpmArg = globalArgs.PNPM_VERSION;
  if (/\bpnpm\b/.test(text1) && pnpmArg !== rules.pnpmVersion) {
    add('PL009', null, `PNPM_VERSION default ${pnpmArg} != packageManager pnpm@${rules.pnpmVersion}`);
  }
  if (/\bturbo\b/.test(text1) && globalArgs.TURBO_VERSION !== rules.turboVersion) {
    add(
      'PL009',
      null,
      `TURBO_VERSION default ${globalArgs.TURBO_VERSION} != root turbo ${rules.turboVersion}`,
    );
  }

  const final = stages.at(-1)!;
  // DL3002: the last USER should not be root.
  const users = final.instructions.filter((i) => i.keyword === 'USER');
  const lastUser = users.at(-1)?.args.trim().split(':')[0];
  if (!lastUser) add('DL3002', null, 'the final stage never switches to a non-root USER');
  else if (lastUser === 'root' || lastUser === '0') add('DL3002', users.at(-1)!, 'the final USER is root');
  const lastUserIndex = users.length ? final.instructions.lastIndexOf(users.at(-1)!) : -1;
  const runAfterUser = final.instructions.slice(lastUserIndex + 1).some((i) => i.keyword === 'RUN');
  if (lastUserIndex >= 0 && runAfterUser)
    add('PL010', null, 'RUN after the final USER (build steps belong before it)');
  const healthchecks = final.instructions.filter((i) => i.keyword === 'HEALTHCHECK');
  if (healthchecks.length === 0) add('PL011', null, 'the final stage has no HEALTHCHECK');
  if (healthchecks.some((h) => /^NONE\b/i.test(h.args.trim()))) add('PL011', null, 'HEALTHCHECK NONE');
  if (!final.instructions.some((i) => i.keyword === 'CMD' || i.keyword === 'ENTRYPOINT')) {
    add('PL012', null, 'the final stage has no CMD');
  }
  // The runtime stage takes built artefacts from earlier stages, never the raw build context.
  for (const ins of final.instructions) {
    if (
      ins.keyword === 'COPY' &&
      !/--from=/.test(ins.args) &&
      /^\.\s/.test(ins.args.replace(/--\S+\s+/g, ''))
    ) {
      add('PL013', ins, 'the final stage copies the whole build context');
    }
  }
  return problems;
}
