import { readFileSync, rmSync } from 'node:fs';

/**
 * Names for the JIT code callgrind can only show as addresses (`???:0x…`): V8's perf map
 * (`--perf-basic-prof` writes `/tmp/perf-<pid>.map`, one `start size name` line per code object,
 * in the order they were made). Where code was freed and its address reused, the later entry
 * wins. Reads and removes the file (kept with PERF_MAP_KEEP=1, for callgrind_annotate's caller trees).
 */
export function perfMapNames(pid: number): (address: number) => string | undefined {
  const file = `/tmp/perf-${pid}.map`;
  const byStart = new Map<number, { end: number; name: string }>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const [start, size, ...name] = line.split(' ');
    if (!start || !size || name.length === 0) continue;
    const from = Number.parseInt(start, 16);
    byStart.set(from, { end: from + Number.parseInt(size, 16), name: name.join(' ') });
  }
  if (process.env.PERF_MAP_KEEP !== '1') rmSync(file, { force: true });
  const starts = [...byStart.keys()].sort((a, b) => a - b);
  return (address) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (starts[mid]! <= address) lo = mid + 1;
      else hi = mid - 1;
    }
    const entry = hi >= 0 ? byStart.get(starts[hi]!) : undefined;
    return entry && address < entry.end ? entry.name : undefined;
  };
}
