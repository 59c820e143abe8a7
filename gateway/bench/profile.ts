import { type ChildProcess, fork } from 'node:child_process';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

/**
 * Where a proxy's CPU goes under the bench load: runs one participant of run.ts (default: the
 * gateway with its access log on) under `node --cpu-prof`, loads one path with autocannon, and
 * prints the top frames by self time plus the share of each part (node internals, the gateway's
 * own code, each library).
 *
 *   node bench/profile.ts [role] [path]      e.g. node bench/profile.ts gateway /plain/a
 *   PROFILE_SECONDS=10 PROFILE_TOP=30 PROFILE_CONNECTIONS=32 (defaults)
 */
const role = process.argv[2] ?? 'gateway';
const path = process.argv[3] ?? '/plain/hello-world';
const seconds = Number(process.env.PROFILE_SECONDS ?? 10);
const top = Number(process.env.PROFILE_TOP ?? 30);
const connections = Number(process.env.PROFILE_CONNECTIONS ?? 32);
const serversFile = fileURLToPath(new URL('./servers.ts', import.meta.url));
const srcDir = fileURLToPath(new URL('../src/', import.meta.url));
const children: ChildProcess[] = [];

function spawn(r: string, args: string[], execArgv: string[] = []) {
  const child = fork(serversFile, [r, ...args], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    execArgv: [...process.execArgv, ...execArgv],
  });
  children.push(child);
  return new Promise<{ child: ChildProcess; url: string }>((resolve, reject) => {
    child.once('error', reject);
    child.once('message', (m) => resolve({ child, url: `http://127.0.0.1:${String(m).split(' ')[1]}` }));
  });
}

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

/** Which part of the stack a frame belongs to. */
function partOf(url: string): string {
  if (url.startsWith('node:') || url === '') return url === '' ? 'native / gc / idle' : 'node internals';
  const m = /node_modules\/(?:\.pnpm\/)?((?:@[^/+]+[+/])?[^/@]+)/.exec(url);
  if (m) return m[1]!.replace('+', '/');
  if (url.includes(srcDir) || url.includes('/gateway/src/')) return 'gateway src';
  return 'other';
}

/** `file:///…/node_modules/.pnpm/x@1/node_modules/x/lib/a.js` → `x/lib/a.js`; our files relative. */
function shortUrl(url: string): string {
  if (!url.startsWith('file:')) return url;
  const p = fileURLToPath(url);
  const i = p.lastIndexOf('/node_modules/');
  return i === -1 ? relative(process.cwd(), p) : p.slice(i + '/node_modules/'.length);
}

try {
  const dir = await mkdtemp(join(tmpdir(), 'pilot-gw-prof-'));
  const backend = await spawn('backend', []);
  const mirror = await spawn('backend', []);
  const subject = await spawn(role, [backend.url, mirror.url], ['--cpu-prof', `--cpu-prof-dir=${dir}`]);
  const warm = await autocannon({ url: subject.url + path, connections, duration: 2 }); // warm-up (JIT)
  const r = await autocannon({ url: subject.url + path, connections, duration: seconds });
  const requests = warm.requests.total + r.requests.total;
  const exited = new Promise((resolve) => subject.child.once('exit', resolve));
  subject.child.kill('SIGTERM');
  await exited;
  const file = (await readdir(dir)).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error('no profile written');
  const profile = JSON.parse(await readFile(join(dir, file), 'utf8')) as {
    nodes: Node[];
    samples: number[];
    startTime: number;
    endTime: number;
  };
  // each sample stands for the same slice of the profile's wall time
  const usPerSample = (profile.endTime - profile.startTime) / profile.samples.length;
  let total = 0;
  const self = new Map<string, number>();
  const parts = new Map<string, number>();
  for (const n of profile.nodes) {
    const hits = n.hitCount ?? 0;
    if (hits === 0) continue;
    const f = n.callFrame;
    if (f.functionName === '(idle)') continue;
    total += hits;
    const where = f.url ? `${shortUrl(f.url)}:${f.lineNumber + 1}` : '';
    const key = `${f.functionName || '(anonymous)'} ${where}`.trim();
    self.set(key, (self.get(key) ?? 0) + hits);
    const part = partOf(f.url);
    parts.set(part, (parts.get(part) ?? 0) + hits);
  }
  const pct = (n: number) =>
    `${((100 * n) / total).toFixed(1).padStart(5)}% ${((n * usPerSample) / requests).toFixed(2).padStart(6)} µs/req`;
  console.log(
    `\n${role} ${path}: ${Math.round(r.requests.average)} req/s over ${seconds}s, ${r.requests.total} requests, ${r.non2xx + r.errors} errors; ${total} samples (idle excluded), ${((total * usPerSample) / requests).toFixed(1)} µs of CPU per request (warm-up included)\n`,
  );
  console.log('self time by part');
  for (const [part, n] of [...parts].sort((a, b) => b[1] - a[1])) console.log(`  ${pct(n)}  ${part}`);
  console.log(`\ntop ${top} frames by self time`);
  for (const [key, n] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top))
    console.log(`  ${pct(n)}  ${key}`);
  console.log(`\nprofile: ${join(dir, file)} (open in Chrome DevTools → Performance)`);
} finally {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
}
