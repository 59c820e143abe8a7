/**
 * `./pilot rollout status [route] | pause|resume|skip|abort|restart <route> [--json]`
 *
 * Talks to the gateway's admin API (GATEWAY_ADMIN_URL, default http://127.0.0.1:<GATEWAY_ADMIN_PORT
 * or 8081>) with the bearer token from GATEWAY_ADMIN_TOKEN; the audit log names the caller from
 * GATEWAY_ADMIN_USER (default: the login name). Exit 0 on success, 1 when the gateway refused or
 * could not be reached, 2 on a usage error.
 */
import { userInfo } from 'node:os';

const COMMANDS = ['pause', 'resume', 'skip', 'abort', 'restart'];
const USAGE = `usage: ./pilot rollout status [route] [--json]
       ./pilot rollout pause|resume|skip|abort|restart <route> [--json]
env:   GATEWAY_ADMIN_TOKEN (required), GATEWAY_ADMIN_URL (default http://127.0.0.1:8081)`;

interface GateView {
  gate: string;
  status: 'pass' | 'fail' | 'no-data' | 'inconclusive';
  value: number | null;
  op: string;
  threshold: number | null;
  unit: string;
}

interface RolloutView {
  route: string;
  from: string;
  to: string;
  phase: string;
  step: number;
  steps: Array<string | number>;
  current: string;
  timeInStepMs: number | null;
  nextCheckAt: string | null;
  failedChecks: number;
  maxFailedChecks: number;
  reason: string | null;
  lastCheck: { at: number; from: number; to: number; verdict: string; gates: GateView[] } | null;
  failure: { from: number; to: number; gates: GateView[] } | null;
  timeline: Array<{ at: number; event: string; value: string | number | null; by: string; detail?: string }>;
}

function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

const time = (ms: number | string) => new Date(ms).toISOString().slice(11, 19);
const unit = (g: GateView) => (g.unit === '%' ? '%' : g.unit ? ` ${g.unit}` : '');
const mark = { pass: 'ok', fail: 'FAIL', 'no-data': 'no data', inconclusive: 'not proven yet' } as const;

function gateLine(g: GateView): string {
  const value = g.value === null ? '–' : `${g.value}${unit(g)}`;
  const threshold = g.threshold === null ? '?' : `${g.threshold}${unit(g)}`;
  return `${g.gate} ${value} (needs ${g.op} ${threshold}) ${mark[g.status]}`;
}

function render(r: RolloutView): string {
  const lines: string[] = [];
  const step = r.step >= 0 ? ` step ${r.step + 1}/${r.steps.length}:` : '';
  const inStep = r.timeInStepMs === null ? '' : `, ${duration(r.timeInStepMs)} in step`;
  lines.push(`${r.route}  ${r.from} → ${r.to}  ${r.phase.toUpperCase()}${step} ${r.current}${inStep}`);
  if (r.reason) lines.push(`  ${r.reason}`);
  lines.push(
    `  steps [${r.steps.join(', ')}]  failed checks ${r.failedChecks} (tolerated ${r.maxFailedChecks})`,
  );
  if (r.lastCheck) {
    lines.push(
      `  last check ${time(r.lastCheck.at)} over ${time(r.lastCheck.from)}–${time(r.lastCheck.to)}: ${r.lastCheck.verdict}`,
    );
    for (const g of r.lastCheck.gates) lines.push(`    ${gateLine(g)}`);
  }
  if (r.failure) {
    lines.push(`  rolled back on the window ${time(r.failure.from)}–${time(r.failure.to)}:`);
    for (const g of r.failure.gates.filter((x) => x.status === 'fail')) lines.push(`    ${gateLine(g)}`);
  }
  if (r.nextCheckAt) lines.push(`  next check about ${time(r.nextCheckAt)}`);
  for (const e of r.timeline.slice(-8)) {
    lines.push(
      `  ${time(e.at)} ${e.event.padEnd(12)} ${String(e.value ?? '').padEnd(6)} by ${e.by}${e.detail ? `: ${e.detail}` : ''}`,
    );
  }
  return lines.join('\n');
}

async function main(argv: string[]): Promise<number> {
  const json = argv.includes('--json');
  const args = argv.filter((a) => a !== '--json' && a !== '--');
  const [cmd, route] = args;
  if (!cmd || cmd === '-h' || cmd === '--help' || args.length > 2) {
    console.error(USAGE);
    return cmd ? 0 : 2;
  }
  if (cmd !== 'status' && !COMMANDS.includes(cmd)) {
    console.error(`unknown command "${cmd}"\n${USAGE}`);
    return 2;
  }
  if (cmd !== 'status' && !route) {
    console.error(`${cmd} needs a route id\n${USAGE}`);
    return 2;
  }
  const token = process.env.GATEWAY_ADMIN_TOKEN;
  if (!token) {
    console.error('GATEWAY_ADMIN_TOKEN is not set: the admin API needs its bearer token');
    return 2;
  }
  const base = process.env.GATEWAY_ADMIN_URL ?? `http://127.0.0.1:${process.env.GATEWAY_ADMIN_PORT ?? 8081}`;
  const path =
    cmd === 'status'
      ? route
        ? `/admin/rollouts/${encodeURIComponent(route)}`
        : '/admin/rollouts'
      : `/admin/rollouts/${encodeURIComponent(route!)}/${cmd}`;
  let res: Response;
  try {
    res = await fetch(new URL(path, base), {
      method: cmd === 'status' ? 'GET' : 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'x-admin-user': process.env.GATEWAY_ADMIN_USER ?? userInfo().username,
      },
      signal: AbortSignal.timeout(10_000),
    });
  } catch (error) {
    console.error(`cannot reach the gateway admin API at ${base}: ${(error as Error).message}`);
    return 1;
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  if (!res.ok) {
    const e = (body as { error?: { code?: string; message?: string } }).error;
    console.error(`${res.status} ${e?.code ?? ''} ${e?.message ?? text}`.trim());
    return 1;
  }
  if (json) {
    console.log(JSON.stringify(body, null, 2));
    return 0;
  }
  const views = (body as { rollouts?: RolloutView[] }).rollouts ?? [body as RolloutView];
  if (views.length === 0) console.log('no route has a rollout block');
  console.log(views.map(render).join('\n\n'));
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
