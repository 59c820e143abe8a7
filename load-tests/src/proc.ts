// CPU time and memory of processes on this machine, read from /proc (Linux): which process
// listens on a port (/proc/net/tcp{,6} → socket inode → /proc/<pid>/fd), its descendants
// (cluster workers, Strapi's children), and per process utime + stime from /proc/<pid>/stat
// and VmRSS from /proc/<pid>/status. No dependency: these are a few small text files, and a
// library for them (pidusage and the like) shells out to `ps` on the way or caches per call.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat times (`getconf CLK_TCK`, 100 on every common Linux). */
export const CLOCK_TICKS = clockTicks();

function clockTicks(): number {
  try {
    const value = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 2000 }).trim());
    return Number.isInteger(value) && value > 0 ? value : 100;
  } catch {
    return 100;
  }
}

export function procAvailable(): boolean {
  try {
    readFileSync('/proc/self/stat', 'utf8');
    return true;
  } catch {
    return false;
  }
}

/** Socket inodes listening on `port` (IPv4 and IPv6), from /proc/net/tcp{,6}. */
export function listeningInodes(port: number, root = '/proc'): Set<string> {
  const inodes = new Set<string>();
  for (const file of ['net/tcp', 'net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(`${root}/${file}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
      if (cols.length < 10 || cols[3] !== '0A') continue; // 0A = LISTEN
      const localPort = Number.parseInt(cols[1]!.split(':').pop()!, 16);
      if (localPort === port && cols[9] !== '0') inodes.add(cols[9]!);
    }
  }
  return inodes;
}

function pids(root: string): number[] {
  try {
    return readdirSync(root)
      .filter((name) => /^\d+$/.test(name))
      .map(Number);
  } catch {
    return [];
  }
}

/**
 * The process that owns the listening socket of `port`, or null (nothing listens, or the
 * owner is not readable by this user, e.g. another user's process or a container's).
 */
export function pidListeningOn(port: number, root = '/proc'): number | null {
  const inodes = listeningInodes(port, root);
  if (inodes.size === 0) return null;
  const wanted = new Set([...inodes].map((inode) => `socket:[${inode}]`));
  for (const pid of pids(root)) {
    let fds: string[];
    try {
      fds = readdirSync(`${root}/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (wanted.has(readlinkSync(`${root}/${pid}/fd/${fd}`))) return pid;
      } catch {
        // the fd closed while we looked
      }
    }
  }
  return null;
}

export interface ProcStat {
  pid: number;
  ppid: number;
  /** utime + stime of the process itself, seconds. */
  cpuSeconds: number;
}

/** Parses /proc/<pid>/stat (the command name may contain spaces and parentheses). */
export function parseStat(text: string, ticks = CLOCK_TICKS): ProcStat {
  const close = text.lastIndexOf(')');
  const pid = Number.parseInt(text, 10);
  // fields after "(comm)": state(3) ppid(4) ... utime(14) stime(15)
  const rest = text
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  const ppid = Number(rest[1]);
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  return { pid, ppid, cpuSeconds: (utime + stime) / ticks };
}

export function readStat(pid: number, root = '/proc'): ProcStat | null {
  try {
    return parseStat(readFileSync(`${root}/${pid}/stat`, 'utf8'));
  } catch {
    return null;
  }
}

/** Resident set size (VmRSS) in bytes, or null. */
export function readRssBytes(pid: number, root = '/proc'): number | null {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`${root}/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : null;
  } catch {
    return null;
  }
}

/** `pid` and every process descending from it (a cluster's workers, a supervisor's child). */
export function processTree(pid: number, root = '/proc'): number[] {
  const children = new Map<number, number[]>();
  for (const p of pids(root)) {
    const stat = readStat(p, root);
    if (!stat) continue;
    const list = children.get(stat.ppid) ?? [];
    list.push(p);
    children.set(stat.ppid, list);
  }
  const out: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const next = queue.shift()!;
    if (out.includes(next)) continue;
    out.push(next);
    queue.push(...(children.get(next) ?? []));
  }
  return out;
}

export interface TreeSample {
  /** CPU seconds of every process of the tree (those that exited since are gone from the sum). */
  cpuSeconds: number;
  rssBytes: number;
  alive: number;
}

/** CPU and RSS summed over a set of processes, or null when none of them is alive. */
export function sampleTree(pidList: number[], root = '/proc'): TreeSample | null {
  let cpu = 0;
  let rss = 0;
  let alive = 0;
  for (const pid of pidList) {
    const stat = readStat(pid, root);
    if (!stat) continue;
    alive += 1;
    cpu += stat.cpuSeconds;
    rss += readRssBytes(pid, root) ?? 0;
  }
  return alive === 0 ? null : { cpuSeconds: cpu, rssBytes: rss, alive };
}
