// System commands the tests need (redis-server, chromium): found on PATH, else installed with
// apt-get when running as root, else one line saying exactly what to install.
import { spawn } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { formatDuration, heartbeat } from '../lib/progress.ts';

/** A prerequisite that is missing and could not be installed; its message is the one line to show. */
export class SetupError extends Error {
  override name = 'SetupError';
}

export interface SystemCommand {
  /** Executable names to look for on PATH, preferred first. */
  names: string[];
  /** Debian package that provides it. */
  aptPackage: string;
  /** What needs it, for the messages. */
  neededFor: string;
}

export interface SetupContext {
  log: (line: string) => void;
  env: NodeJS.ProcessEnv;
  /** Whether this process may install system packages (root with apt-get). */
  canInstall: boolean;
}

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

export function findOnPath(names: string[], path = process.env.PATH ?? ''): string | null {
  for (const dir of path.split(delimiter).filter(Boolean)) {
    for (const name of names) {
      const candidate = join(dir, name);
      if (isExecutableFile(candidate)) return candidate;
    }
  }
  return null;
}

export function canInstallSystemPackages(env: NodeJS.ProcessEnv = process.env): boolean {
  return process.getuid?.() === 0 && findOnPath(['apt-get'], env.PATH) !== null;
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv, onLine: () => void): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const collect = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-4000);
      onLine();
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0
        ? resolve(output)
        : reject(
            new Error(
              `${command} ${args.join(' ')} exited with ${code}: ${output.trim().split('\n').at(-1) ?? ''}`,
            ),
          ),
    );
  });
}

let aptUpdated = false;

/** `apt-get install` with progress lines while it works; the package index is refreshed once per run. */
export async function aptInstall(pkg: string, context: SetupContext): Promise<void> {
  const env = { ...context.env, DEBIAN_FRONTEND: 'noninteractive' };
  // Wait for another apt (unattended upgrades, a parallel install) instead of failing.
  const lock = ['-o', 'DPkg::Lock::Timeout=600'];
  const progress = heartbeat((text) => context.log(text), `still installing ${pkg} with apt-get`);
  try {
    if (!aptUpdated) {
      await run('apt-get', [...lock, 'update', '-qq'], env, () => {});
      aptUpdated = true;
    }
    await run('apt-get', [...lock, 'install', '-y', '-qq', pkg], env, () => {});
  } finally {
    progress.stop();
  }
  context.log(`installed ${pkg} in ${formatDuration(progress.elapsedMs())}`);
}

/** The path of the command, installing its package first when that is allowed; else a SetupError. */
export async function ensureCommand(command: SystemCommand, context: SetupContext): Promise<string> {
  const found = findOnPath(command.names, context.env.PATH);
  if (found) return found;
  const install = `apt-get install ${command.aptPackage}`;
  if (!context.canInstall) {
    throw new SetupError(
      `${command.neededFor} need ${command.names[0]}, which is not installed: run \`sudo ${install}\` ` +
        '(or run ./pilot test as root, which installs it), then try again',
    );
  }
  context.log(
    `${command.names[0]} is missing; installing the ${command.aptPackage} package with apt-get (${command.neededFor})`,
  );
  try {
    await aptInstall(command.aptPackage, context);
  } catch (error) {
    throw new SetupError(
      `could not install ${command.aptPackage} (${(error as Error).message}); install it yourself: ${install}`,
    );
  }
  const installed = findOnPath(
    command.names,
    `${context.env.PATH ?? ''}${delimiter}/usr/bin${delimiter}/usr/sbin`,
  );
  if (!installed)
    throw new SetupError(
      `installed ${command.aptPackage} but found no ${command.names.join(' or ')} on PATH`,
    );
  return installed;
}
