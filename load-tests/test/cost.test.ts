// CPU and RSS measurement: /proc parsing and discovery against real processes of this machine
// (this test process and a child it starts), the cost arithmetic over samples, and the
// /metrics fallback against a service exposing prom-client's process_* metrics.
import { type ChildProcess, spawn } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { startTestServer } from '@pilot/test-kit';
import { afterEach, describe, expect, it } from 'vitest';
import { deltaBetween, type ResourceSample, type ResourceSeries, runCost, valueAt } from '../src/cost.ts';
import { createMonitor, locateProcesses } from '../src/monitor.ts';
import { parseStat, pidListeningOn, processTree, readRssBytes, readStat, sampleTree } from '../src/proc.ts';

const closers: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

describe('/proc', () => {
  it('parses stat lines whose command has spaces and parentheses', () => {
    const line =
      '4242 (node (worker) x) S 17 4242 4242 0 -1 4194560 9 0 0 0 250 130 0 0 20 0 11 0 12345 1 2 3';
    expect(parseStat(line, 100)).toEqual({ pid: 4242, ppid: 17, cpuSeconds: 3.8 });
  });

  it('reads this process: CPU grows with work, RSS is plausible', () => {
    const before = readStat(process.pid)!;
    const until = Date.now() + 300;
    let x = 0;
    while (Date.now() < until) x += Math.sqrt(x + 1);
    const after = readStat(process.pid)!;
    expect(after.ppid).toBe(process.ppid);
    expect(after.cpuSeconds).toBeGreaterThan(before.cpuSeconds);
    const rss = readRssBytes(process.pid)!;
    expect(rss).toBeGreaterThan(10 * 1024 * 1024);
    expect(rss).toBeLessThan(process.memoryUsage().rss * 2);
  });

  it('finds the process listening on a port, and its children', async () => {
    const server: Server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const port = (server.address() as { port: number }).port;
    expect(pidListeningOn(port)).toBe(process.pid);

    const child: ChildProcess = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], {
      stdio: 'ignore',
    });
    closers.push(() => {
      child.kill('SIGKILL');
    });
    await new Promise((resolve) => child.once('spawn', resolve));
    expect(processTree(process.pid)).toContain(child.pid);
    const tree = sampleTree([process.pid, child.pid!])!;
    expect(tree.alive).toBe(2);
    expect(tree.rssBytes).toBeGreaterThan(readRssBytes(process.pid)!);
    expect(pidListeningOn(1)).toBeNull(); // nothing listens on port 1
  });
});

const sample = (t: number, gen: number, legacy: number | null, rssMb: number): ResourceSample => ({
  t,
  generator: { cpuSeconds: gen, eluActive: t * 0.4, eluIdle: t * 0.6 },
  processes: { legacy: { cpuSeconds: legacy, rssBytes: rssMb * 1048576 } },
});

describe('cost arithmetic', () => {
  const series: ResourceSeries = {
    processes: [
      { name: 'legacy', source: 'proc', pids: [1] },
      {
        name: 'gateway',
        source: 'in-process',
        note: 'runs inside the load generator: its cost cannot be told apart',
      },
    ],
    samples: [
      sample(0, 10, 5, 80),
      sample(1000, 10.5, 6, 90),
      sample(2000, 11, 7.5, 120),
      sample(3000, 11.5, 8, 100),
    ],
  };

  it('interpolates between samples and takes growth of cumulative counters', () => {
    expect(valueAt(series.samples, 500, (s) => s.processes.legacy?.cpuSeconds)).toBe(5.5);
    expect(valueAt(series.samples, -10, (s) => s.generator.cpuSeconds)).toBe(10);
    expect(deltaBetween(series.samples, 0, 3000, (s) => s.processes.legacy?.cpuSeconds)).toBe(3);
  });

  it('CPU-seconds per 1,000 requests, peak RSS, path, and the generator', () => {
    const cost = runCost(series, 'legacy', 0, 3000, 6000, 3);
    const legacy = cost.processes.find((p) => p.name === 'legacy')!;
    expect(legacy).toMatchObject({ cpuSeconds: 3, cpuPer1k: 0.5, peakRssBytes: 120 * 1048576 });
    expect(cost.processes.find((p) => p.name === 'gateway')).toMatchObject({
      source: 'in-process',
      cpuPer1k: null,
    });
    expect(cost).toMatchObject({ own: 'legacy', pathProcesses: ['legacy'], pathCpuPer1k: 0.5 });
    expect(cost.generator).toMatchObject({
      cpuSeconds: 1.5,
      cpuCores: 0.5,
      elu: 0.4,
      saturated: false,
      late: false,
    });
    const late = runCost(series, 'legacy', 0, 3000, 6000, 250);
    expect(late.generator).toMatchObject({ late: true, why: 'iterations started up to 250 ms late (p99)' });
  });
});

describe('the monitor', () => {
  it('measures a service from its process_* metrics when /proc cannot see it', async () => {
    let cpu = 40;
    const service = await startTestServer((_req, res) => {
      cpu += 0.25;
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(
        `# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total ${cpu}\n# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes 157286400\n`,
      );
    });
    closers.push(() => service.close());
    // A URL on a host that is not this machine's loopback: not looked up in /proc.
    const infos = locateProcesses([
      { name: 'modern', url: 'http://10.255.255.1:3002', metricsUrl: `${service.url}/metrics` },
    ]);
    expect(infos[0]).toMatchObject({ source: 'metrics' });
    const monitor = createMonitor({
      processes: [{ name: 'modern', url: 'http://10.255.255.1:3002', metricsUrl: `${service.url}/metrics` }],
      intervalMs: 100,
    });
    monitor.start(performance.now());
    await new Promise((resolve) => setTimeout(resolve, 1300));
    const series = await monitor.stop();
    const scraped = series.samples.filter((s) => s.processes.modern?.cpuSeconds !== undefined);
    expect(scraped.length).toBeGreaterThanOrEqual(2);
    const cost = runCost(series, 'modern', 0, series.samples.at(-1)!.t, 1000, 1);
    expect(cost.processes[0]).toMatchObject({ source: 'metrics', peakRssBytes: 157286400 });
    expect(cost.processes[0]!.cpuSeconds).toBeGreaterThan(0);
  });

  it('marks a service that runs inside the generator (tests) instead of measuring it twice', async () => {
    const service = await startTestServer((_req, res) => {
      res.end('ok');
    });
    closers.push(() => service.close());
    expect(locateProcesses([{ name: 'legacy', url: service.url }])[0]).toMatchObject({
      source: 'in-process',
    });
    expect(locateProcesses([{ name: 'legacy', url: 'http://127.0.0.1:1' }])[0]).toMatchObject({
      source: 'unavailable',
    });
  });
});
