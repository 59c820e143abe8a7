import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseDockerfile } from './dockerfile.ts';
import { REPO_ROOT } from './repo.ts';

const run = promisify(execFile);

/**
 * The dependency steps of docker/service.Dockerfile, replayed on this machine without Docker:
 * the `turbo prune` and `pnpm install` commands are read from the Dockerfile itself (ARGs
 * substituted), run in a temporary directory (offline, from the local pnpm store), and the
 * pruned sources are copied in, as the `deps` stage does. What comes out is what the
 * runtime stage copies into the image.
 */
export interface PrunedApp {
  /** The directory that stands for the image's /app. */
  root: string;
  /** The pnpm install command as run (for messages). */
  install: string[];
  cleanup(): Promise<void>;
}

function dockerfileCommand(text: string, pattern: RegExp): string {
  const ins = parseDockerfile(text).instructions.find((i) => i.keyword === 'RUN' && pattern.test(i.args));
  if (!ins) throw new Error(`no RUN matching ${pattern} in the Dockerfile`);
  const command = ins.args.replace(/^--mount=\S+\s+/, '');
  const part = command.split('&&').find((p) => pattern.test(p));
  return part!.trim();
}

/** Shell-like split of one command (double quotes only, as the Dockerfile uses). */
function words(command: string): string[] {
  return [...command.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2]!);
}

export async function pruneAndInstall(
  dockerfileText: string,
  args: Record<string, string>,
): Promise<PrunedApp> {
  const substitute = (s: string) => s.replace(/\$\{(\w+)\}/g, (_, name: string) => args[name] ?? '');
  const pruneWords = words(substitute(dockerfileCommand(dockerfileText, /\bturbo prune\b/)));
  const installWords = words(substitute(dockerfileCommand(dockerfileText, /\bpnpm install\b/)));
  const dir = await mkdtemp(join(tmpdir(), 'pilot-image-'));
  const out = join(dir, 'out');
  const root = join(dir, 'app');
  try {
    // turbo prune <pkg> --docker --out-dir /out  →  out-dir in the temp directory
    const pruneArgs = pruneWords.slice(1).map((w) => (w === '/out' ? out : w));
    await run('pnpm', ['exec', 'turbo', ...pruneArgs], {
      cwd: REPO_ROOT,
      env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1' },
    });
    await cp(join(out, 'json'), root, { recursive: true });
    // pnpm install ... minus the image's store flags, plus --offline: the store is this machine's.
    const install: string[] = [];
    for (let i = 1; i < installWords.length; i += 1) {
      const word = installWords[i]!;
      if (word === '--store-dir' || word === '--package-import-method') {
        i += 1;
        continue;
      }
      install.push(word);
    }
    // The repo's own store (pnpm may place it per filesystem: ask it rather than assume).
    const store = (await run('pnpm', ['store', 'path'], { cwd: REPO_ROOT })).stdout.trim();
    install.push('--store-dir', store, '--offline', '--reporter=silent');
    await run('pnpm', install, { cwd: root, env: { ...process.env, CI: 'true' } });
    await cp(join(out, 'full'), root, { recursive: true });
    return { root, install: ['pnpm', ...install], cleanup: () => rm(dir, { recursive: true, force: true }) };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

export interface Booted {
  child: ChildProcess;
  output: () => string;
  stop(): Promise<void>;
}

/**
 * Starts `node --max-semi-space-size=16 src/server.ts` (the image's CMD) in `cwd` and waits until
 * `healthUrl` answers 2xx.
 */
export async function bootAndProbe(
  cwd: string,
  env: Record<string, string>,
  healthUrl: string,
  timeoutMs = 60_000,
): Promise<Booted> {
  const child = spawn(process.execPath, ['--max-semi-space-size=16', 'src/server.ts'], {
    cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`exited with ${child.exitCode} before answering ${healthUrl}:\n${output}`);
    try {
      const res = await fetch(healthUrl, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return { child, output: () => output, stop };
    } catch {
      // not listening yet: the process is still starting (checked above)
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  await stop();
  throw new Error(`${healthUrl} did not answer within ${timeoutMs} ms:\n${output}`);
}
