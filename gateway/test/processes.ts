import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Real processes for tests that must prove a process survives (a crash in the test process
 * would hide behind vitest): `node gateway/src/server.ts`, `node apps/legacy/src/server.ts`,
 * `node apps/modern/src/server.ts`, on ephemeral ports, stopped by their own PID.
 */
export interface Proc {
  name: string;
  child: ChildProcess;
  url: string;
  /** The gateway's admin URL. */
  adminUrl?: string;
  /** Whether the process is still running. */
  alive(): boolean;
  /** "exited with 1" / "killed by SIGSEGV" / null while running. */
  exit(): string | null;
  /** The last lines it wrote (stdout and stderr), for failure messages. */
  tail(lines?: number): string;
  stop(): Promise<void>;
}

const GATEWAY = fileURLToPath(new URL('../src/server.ts', import.meta.url));
const LEGACY = fileURLToPath(new URL('../../apps/legacy/src/server.ts', import.meta.url));
const MODERN = fileURLToPath(new URL('../../apps/modern/src/server.ts', import.meta.url));

type Ready = (entry: Record<string, unknown>, line: string) => { url: string; adminUrl?: string } | null;

function start(name: string, script: string, env: Record<string, string>, ready: Ready): Promise<Proc> {
  const child = spawn(process.execPath, [script], {
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const keep = (line: string) => {
    lines.push(line);
    if (lines.length > 400) lines.splice(0, lines.length - 400);
  };
  let exitInfo: string | null = null;
  child.once('exit', (code, signal) => {
    exitInfo = signal ? `killed by ${signal}` : `exited with ${code}`;
  });
  let stderrBuf = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderrBuf += d.toString();
    let nl = stderrBuf.indexOf('\n');
    while (nl !== -1) {
      keep(`[stderr] ${stderrBuf.slice(0, nl)}`);
      stderrBuf = stderrBuf.slice(nl + 1);
      nl = stderrBuf.indexOf('\n');
    }
  });
  const proc: Omit<Proc, 'url' | 'adminUrl'> = {
    name,
    child,
    alive: () => exitInfo === null,
    exit: () => exitInfo,
    tail: (n = 40) => lines.slice(-n).join('\n') + (stderrBuf ? `\n[stderr] ${stderrBuf}` : ''),
    stop: () =>
      new Promise<void>((resolve) => {
        if (exitInfo !== null) return resolve();
        const kill = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', () => {
          clearTimeout(kill);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
  return new Promise((resolve, reject) => {
    let found = false;
    const timer = setTimeout(() => {
      if (found) return;
      child.kill('SIGKILL');
      reject(new Error(`${name} did not start in 60 s:\n${proc.tail()}`));
    }, 60_000);
    child.once('exit', () => {
      if (found) return;
      clearTimeout(timer);
      reject(new Error(`${name} ${exitInfo} during start-up:\n${proc.tail()}`));
    });
    let buffered = '';
    child.stdout!.on('data', (d: Buffer) => {
      buffered += d.toString();
      let nl = buffered.indexOf('\n');
      while (nl !== -1) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        nl = buffered.indexOf('\n');
        keep(line);
        if (found) continue;
        let entry: Record<string, unknown>;
        try {
          entry = JSON.parse(line) as Record<string, unknown>;
        } catch {
          continue;
        }
        const urls = ready(entry, line);
        if (urls) {
          found = true;
          clearTimeout(timer);
          resolve({ ...proc, ...urls });
        }
      }
    });
  });
}

/** The gateway with a table file; both ports ephemeral on 127.0.0.1. */
export function startGatewayProcess(env: Record<string, string>): Promise<Proc> {
  return start(
    'gateway',
    GATEWAY,
    {
      GATEWAY_PORT: '0',
      GATEWAY_ADMIN_PORT: '0',
      GATEWAY_HOST: '127.0.0.1',
      GATEWAY_ACCESS_LOG: 'false',
      LOG_LEVEL: 'info',
      ...env,
    },
    (e) => (e.msg === 'gateway listening' ? { url: String(e.url), adminUrl: String(e.adminUrl) } : null),
  );
}

/** Common environment of both apps in tests: no Redis, nothing else listening on the defaults. */
function appEnv(env: Record<string, string>): Record<string, string> {
  return {
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    STRAPI_TIMEOUT_MS: '1000',
    AGGREGATE_WEATHER_URL: 'http://127.0.0.1:9/weather',
    AGGREGATE_QUOTE_URL: 'http://127.0.0.1:9/quote',
    AGGREGATE_TIMEOUT_MS: '500',
    WEBHOOK_SECRET: 'fuzz-webhook-secret-0123456789',
    ...env,
  };
}

export function startLegacyProcess(env: Record<string, string> = {}): Promise<Proc> {
  return start('legacy', LEGACY, appEnv({ LEGACY_PORT: '0', ...env }), (e) =>
    e.msg === 'legacy listening' && typeof e.url === 'string' ? { url: e.url } : null,
  );
}

export function startModernProcess(env: Record<string, string> = {}): Promise<Proc> {
  return start('modern', MODERN, appEnv({ MODERN_PORT: '0', ...env }), (e) => {
    const m =
      typeof e.msg === 'string' ? /^Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(e.msg) : null;
    return m ? { url: m[1]! } : null;
  });
}
