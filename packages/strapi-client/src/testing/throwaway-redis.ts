import { type ChildProcess, spawn } from 'node:child_process';
import { freePort } from '@pilot/test-kit/ports';

/**
 * A private redis-server on an ephemeral port, for tests that kill and restart Redis
 * without touching the shared one. Needs `redis-server` on PATH. Stopped by its PID only.
 */
export interface ThrowawayRedis {
  url: string;
  port: number;
  /** Kills the server (SIGKILL: a crash, not a graceful shutdown). */
  kill(): Promise<void>;
  /** Freezes it (SIGSTOP): connections stay open, nothing answers. */
  stop(): void;
  /** Unfreezes it (SIGCONT). */
  resume(): void;
  /** Starts it again on the same port (empty: persistence is off). */
  restart(): Promise<void>;
  /** Kills it for good. */
  close(): Promise<void>;
}

function spawnRedis(port: number, timeoutMs: number): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--daemonize',
        'no',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`redis-server on ${port} did not start in ${timeoutMs}ms: ${output.slice(-500)}`));
    }, timeoutMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server on ${port} exited with ${code}: ${output.slice(-500)}`));
    });
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        child.stdout?.removeAllListeners('data');
        child.stdout?.resume();
        resolve(child);
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
  });
}

function killChild(child: ChildProcess | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGCONT'); // a stopped process dies too, but let it go on its way
    child.kill('SIGKILL');
  });
}

export async function startThrowawayRedis(
  options: { startTimeoutMs?: number } = {},
): Promise<ThrowawayRedis> {
  const timeoutMs = options.startTimeoutMs ?? 10_000;
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    try {
      let child: ChildProcess | undefined = await spawnRedis(port, timeoutMs);
      return {
        url: `redis://127.0.0.1:${port}`,
        port,
        async kill() {
          await killChild(child);
          child = undefined;
        },
        stop() {
          child?.kill('SIGSTOP');
        },
        resume() {
          child?.kill('SIGCONT');
        },
        async restart() {
          await killChild(child);
          child = await spawnRedis(port, timeoutMs);
        },
        async close() {
          await killChild(child);
          child = undefined;
        },
      };
    } catch (error) {
      lastError = error; // port taken between probe and spawn: try another
    }
  }
  throw lastError;
}
