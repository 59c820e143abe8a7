// One service of the local stack as a child process: started and waited for until it answers,
// restarted with exponential backoff when it dies later, stopped with its whole process group.
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { formatDuration, heartbeat } from '../lib/progress.ts';

export interface RestartPolicy {
  /** Delay before the first restart; doubles with each fast failure in a row. */
  initialDelayMs: number;
  /** The delay never grows beyond this. */
  maxDelayMs: number;
  /** A run that dies before it is ready, or within this long after, is a fast failure. */
  fastFailureMs: number;
  /** After this many fast failures in a row the service is left down. */
  maxFastFailures: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = {
  initialDelayMs: 1000,
  maxDelayMs: 30_000,
  fastFailureMs: 30_000,
  maxFastFailures: 5,
};

export interface ServiceSpec {
  name: string;
  command: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Ready once this answers with a status below 500. */
  readyUrl: string;
  readyTimeoutMs: number;
}

export interface ServiceEvents {
  /** A line the service printed. */
  line(name: string, text: string): void;
  /** What the supervisor has to say about the service (start, exit, restart, giving up). */
  note(name: string, text: string): void;
}

/** Delay before the next restart, given how many fast failures happened in a row (0 = the run was long). */
export function restartDelay(policy: RestartPolicy, fastFailuresInARow: number): number {
  const doublings = Math.max(0, fastFailuresInARow - 1);
  return Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** Math.min(doublings, 30));
}

function exitText(code: number | null, signal: NodeJS.Signals | null): string {
  return signal ? `signal ${signal}` : `code ${code}`;
}

export class SupervisedService {
  readonly spec: ServiceSpec;
  private readonly policy: RestartPolicy | null;
  private readonly events: ServiceEvents;
  private child: ChildProcess | null = null;
  private stopping = false;
  private restartTimer: NodeJS.Timeout | null = null;
  private fastFailures = 0;
  private restarts = 0;
  /** When the current run became ready; null while it is not (yet). */
  private readyAt: number | null = null;

  /** `policy` null: a service that dies stays down (the first start never restarts either way). */
  constructor(spec: ServiceSpec, policy: RestartPolicy | null, events: ServiceEvents) {
    this.spec = spec;
    this.policy = policy;
    this.events = events;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Spawns the service and resolves once it is ready; rejects if it exits or times out first. */
  async start(): Promise<number> {
    const started = Date.now();
    const child = this.spawnChild();
    const progress = heartbeat((text) => this.events.note(this.spec.name, text), 'still starting');
    const onLine = () => progress.touch();
    child.stdout?.on('data', onLine);
    child.stderr?.on('data', onLine);
    try {
      await this.waitReady(child);
    } catch (error) {
      this.killGroup(child, 'SIGKILL');
      throw error;
    } finally {
      progress.stop();
      child.stdout?.off('data', onLine);
      child.stderr?.off('data', onLine);
    }
    this.readyAt = Date.now();
    child.on('exit', (code, signal) => this.onExit(child, code, signal));
    return Date.now() - started;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    this.events.note(this.spec.name, 'stopping');
    const exited = new Promise((resolve) => child.once('exit', resolve));
    this.killGroup(child, 'SIGTERM');
    const timer = setTimeout(() => this.killGroup(child, 'SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }

  private spawnChild(): ChildProcess {
    const { spec } = this;
    const child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: spec.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      // Own process group, so stop() ends what the service started too (pnpm → node).
      detached: true,
    });
    this.child = child;
    this.readyAt = null;
    for (const stream of [child.stdout, child.stderr]) {
      if (stream) createInterface({ input: stream }).on('line', (line) => this.events.line(spec.name, line));
    }
    // A failed spawn (command missing) is reported as an exit, not thrown from an event.
    child.on('error', (error) =>
      this.events.note(spec.name, `could not run ${spec.command}: ${error.message}`),
    );
    return child;
  }

  private async waitReady(child: ChildProcess): Promise<void> {
    const { spec } = this;
    const deadline = Date.now() + spec.readyTimeoutMs;
    let exited: string | null = null;
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
      exited = exitText(code, signal);
    };
    const onError = (error: Error) => {
      exited ??= `an error (${error.message})`;
    };
    child.once('exit', onExit);
    child.once('error', onError);
    try {
      while (Date.now() < deadline) {
        if (exited) throw new Error(`${spec.name} exited with ${exited} before it was ready`);
        try {
          const res = await fetch(spec.readyUrl, { signal: AbortSignal.timeout(1000) });
          await res.body?.cancel();
          if (res.status < 500) return;
        } catch {
          // not listening yet
        }
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      if (exited) throw new Error(`${spec.name} exited with ${exited} before it was ready`);
      throw new Error(
        `${spec.name} not ready at ${spec.readyUrl} after ${formatDuration(spec.readyTimeoutMs)}`,
      );
    } finally {
      child.off('exit', onExit);
      child.off('error', onError);
    }
  }

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.stopping || child !== this.child) return;
    const { name } = this.spec;
    const why = exitText(code, signal);
    if (!this.policy) {
      this.events.note(name, `service ${name} exited with ${why}; not restarting it (restarts are off)`);
      return;
    }
    const upMs = this.readyAt === null ? 0 : Date.now() - this.readyAt;
    this.fastFailures = upMs < this.policy.fastFailureMs ? this.fastFailures + 1 : 0;
    if (this.fastFailures >= this.policy.maxFastFailures) {
      this.events.note(
        name,
        `service ${name} exited with ${why}; ${this.fastFailures} fast failures in a row (each within ` +
          `${formatDuration(this.policy.fastFailureMs)} of starting), so it stays down: see its log above, ` +
          'fix the cause, then start the stack again',
      );
      return;
    }
    const delay = restartDelay(this.policy, this.fastFailures);
    this.events.note(name, `service ${name} exited with ${why}, restarting in ${formatDuration(delay)}`);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      if (!this.stopping) void this.restart();
    }, delay);
  }

  private async restart(): Promise<void> {
    this.restarts += 1;
    const child = this.spawnChild();
    child.on('exit', (code, signal) => this.onExit(child, code, signal));
    try {
      const started = Date.now();
      await this.waitReady(child);
      if (this.stopping || child !== this.child) return;
      this.readyAt = Date.now();
      this.events.note(
        this.spec.name,
        `ready again at ${this.spec.readyUrl} in ${formatDuration(Date.now() - started)} (restart #${this.restarts})`,
      );
    } catch (error) {
      if (this.stopping || child !== this.child) return;
      // Could not even spawn: no exit event will come.
      if (child.pid === undefined) return this.onExit(child, 127, null);
      // Exits are handled by onExit; a run that never gets ready is ended so it counts as a failure.
      if (child.exitCode === null && child.signalCode === null) {
        this.events.note(this.spec.name, `${(error as Error).message}; ending it`);
        this.killGroup(child, 'SIGKILL');
      }
    }
  }

  private killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-child.pid, signal);
    } catch {
      // already gone
    }
  }
}
