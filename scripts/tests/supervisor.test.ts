import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { freePort } from '../lib/ports.ts';
import { type RestartPolicy, restartDelay, SupervisedService } from '../stack/supervisor.ts';

/**
 * A tiny HTTP service: counts its runs in RUN_FILE and follows PLAN, one entry per run
 * (the last repeats): exit with `code` after `afterMs`, or stay up when the entry is null. A run
 * meant to be seen ready first lives 1.5 s: the supervisor polls readiness every 250 ms, and on a
 * loaded CI machine a 300 ms life ended before a poll saw it.
 * With GRANDCHILD set it also starts a long-lived child process and records its pid.
 */
const SERVICE = `
const fs = require('node:fs');
const http = require('node:http');
const runFile = process.env.RUN_FILE;
const run = Number(fs.existsSync(runFile) ? fs.readFileSync(runFile, 'utf8') : 0) + 1;
fs.writeFileSync(runFile, String(run));
const plan = JSON.parse(process.env.PLAN);
const step = plan[Math.min(run, plan.length) - 1];
http.createServer((req, res) => res.end('ok')).listen(Number(process.env.PORT), '127.0.0.1');
console.log('run ' + run);
if (process.env.GRANDCHILD) {
  const child = require('node:child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  fs.writeFileSync(process.env.GRANDCHILD, String(child.pid));
}
if (step) setTimeout(() => process.exit(step.code), step.afterMs);
`;

type Step = { afterMs: number; code: number } | null;

const FAST: RestartPolicy = { initialDelayMs: 20, maxDelayMs: 60, fastFailureMs: 60_000, maxFastFailures: 4 };

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('SupervisedService (real child processes)', () => {
  let dir: string;
  let service: SupervisedService | null = null;
  const notes: string[] = [];
  const lines: string[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pilot-supervisor-'));
    notes.length = 0;
    lines.length = 0;
  });
  afterEach(async () => {
    await service?.stop();
    service = null;
    await rm(dir, { recursive: true, force: true });
  });

  async function make(plan: Step[], policy: RestartPolicy | null, extraEnv: Record<string, string> = {}) {
    const port = await freePort();
    service = new SupervisedService(
      {
        name: 'svc',
        command: process.execPath,
        args: ['-e', SERVICE],
        cwd: dir,
        env: {
          ...process.env,
          PORT: String(port),
          RUN_FILE: join(dir, 'runs'),
          PLAN: JSON.stringify(plan),
          ...extraEnv,
        },
        readyUrl: `http://127.0.0.1:${port}/`,
        readyTimeoutMs: 15_000,
      },
      policy,
      { line: (_name, text) => lines.push(text), note: (_name, text) => notes.push(text) },
    );
    return { service, port, runs: async () => Number(await readFile(join(dir, 'runs'), 'utf8')) };
  }

  it('restarts a service that dies, says so, and it answers again', async () => {
    const { service, port, runs } = await make([{ afterMs: 1500, code: 3 }, null], FAST);
    await service.start();
    await until(() => notes.some((n) => n.startsWith('ready again')));
    expect(notes).toContain('service svc exited with code 3, restarting in 20ms');
    expect(await runs()).toBe(2);
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('ok');
    expect(lines).toEqual(['run 1', 'run 2']);
  });

  it('backs off exponentially (capped) and gives up after repeated fast failures', async () => {
    const { service, runs } = await make(
      [
        { afterMs: 1500, code: 1 },
        { afterMs: 100, code: 1 },
      ],
      FAST,
    );
    await service.start();
    await until(() => notes.some((n) => n.includes('stays down')));
    expect(notes.filter((n) => n.includes('restarting in'))).toEqual([
      'service svc exited with code 1, restarting in 20ms',
      'service svc exited with code 1, restarting in 40ms',
      'service svc exited with code 1, restarting in 60ms',
    ]);
    expect(notes.at(-1)).toMatch(/^service svc exited with code 1; 4 fast failures in a row .*stays down/);
    const count = await runs();
    expect(count).toBe(4);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await runs()).toBe(count);
  });

  it('with restarts off, a service that dies stays down and the log says so', async () => {
    const { service, runs } = await make([{ afterMs: 1500, code: 2 }], null);
    await service.start();
    await until(() => notes.some((n) => n.includes('not restarting')));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(await runs()).toBe(1);
  });

  it('start() fails with the exit code of a service that dies before it is ready', async () => {
    const port = await freePort();
    service = new SupervisedService(
      {
        name: 'svc',
        command: process.execPath,
        args: ['-e', 'process.exit(7)'],
        cwd: dir,
        env: process.env,
        readyUrl: `http://127.0.0.1:${port}/`,
        readyTimeoutMs: 15_000,
      },
      FAST,
      { line: () => {}, note: (_name, text) => notes.push(text) },
    );
    await expect(service.start()).rejects.toThrow('svc exited with code 7 before it was ready');
    expect(notes.filter((n) => n.includes('restarting'))).toEqual([]);
  });

  it('stop() ends the whole process group, grandchildren included, and cancels a pending restart', async () => {
    const pidFile = join(dir, 'grandchild');
    const { service } = await make([null], FAST, { GRANDCHILD: pidFile });
    await service.start();
    await until(async () => (await readFile(pidFile, 'utf8').catch(() => '')) !== '');
    const grandchild = Number(await readFile(pidFile, 'utf8'));
    const pid = service.pid!;
    expect(alive(grandchild)).toBe(true);
    await service.stop();
    await until(() => !alive(grandchild) && !alive(pid), 5000);
    expect(notes).not.toContainEqual(expect.stringContaining('restarting'));
  });
});

describe('restartDelay', () => {
  const policy: RestartPolicy = {
    initialDelayMs: 1000,
    maxDelayMs: 30_000,
    fastFailureMs: 30_000,
    maxFastFailures: 5,
  };
  it('starts at the initial delay after a long run, doubles per fast failure, and stops at the cap', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 50].map((n) => restartDelay(policy, n))).toEqual([
      1000, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000,
    ]);
  });
});
