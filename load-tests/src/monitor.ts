// Samples, during a run, the CPU and RSS of the service processes and of the load generator
// itself. Local processes are found by the port they listen on and read from /proc; a service
// this machine cannot see there is read from its /metrics (prom-client's process_* metrics).
import { performance } from 'node:perf_hooks';
import type { ProcessInfo, ProcessName, ResourceSample, ResourceSeries } from './cost.ts';
import { readProcessMetrics } from './metrics.ts';
import { pidListeningOn, procAvailable, processTree, sampleTree } from './proc.ts';

export interface ProcessSpec {
  name: ProcessName;
  /** The service's base URL (its port is looked up in /proc). */
  url: string;
  /** Where its process_* metrics are, for when /proc cannot see it. */
  metricsUrl?: string;
}

export interface ResourceMonitor {
  /** Starts sampling (cheap); sample times are ms since `originMs` (performance.now() clock). */
  start(originMs: number): void;
  stop(): Promise<ResourceSeries>;
}

export interface MonitorOptions {
  processes: ProcessSpec[];
  /** Sampling period for /proc and the generator (ms); /metrics is read at most once a second. */
  intervalMs?: number;
}

/** Where each process can be measured from, decided once per run (services may have restarted). */
export function locateProcesses(specs: ProcessSpec[]): ProcessInfo[] {
  const canProc = procAvailable();
  return specs.map((spec) => {
    const url = new URL(spec.url);
    const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
    const local = /^(127(\.\d{1,3}){3}|localhost|\[::1\]|::1)$/.test(url.hostname);
    const pid = canProc && local ? pidListeningOn(port) : null;
    if (pid === process.pid) {
      return {
        name: spec.name,
        source: 'in-process',
        note: 'runs inside the load generator: its cost cannot be told apart',
      };
    }
    if (pid !== null) return { name: spec.name, source: 'proc', pids: processTree(pid) };
    if (spec.metricsUrl) {
      return {
        name: spec.name,
        source: 'metrics',
        metricsUrl: spec.metricsUrl,
        note: `not visible in /proc: process_* metrics from ${spec.metricsUrl}`,
      };
    }
    return { name: spec.name, source: 'unavailable', note: 'not visible in /proc and no /metrics URL' };
  });
}

/** A monitor that samples only the generator (tests, and runs without services to watch). */
export function generatorOnlyMonitor(intervalMs = 250): ResourceMonitor {
  return createMonitor({ processes: [], intervalMs });
}

/**
 * A monitor for one run. Where each process is measured from is looked up here, before the run
 * (scanning /proc takes a moment that must not delay the first arrivals).
 */
export function createMonitor(options: MonitorOptions): ResourceMonitor {
  const intervalMs = options.intervalMs ?? 250;
  const infos: ProcessInfo[] = locateProcesses(options.processes);
  const samples: ResourceSample[] = [];
  let origin = 0;
  let timer: NodeJS.Timeout | null = null;
  let pending: Promise<void> | null = null;
  let lastMetricsAt = -Infinity;

  const refreshMetrics = async (force: boolean): Promise<void> => {
    const remote = infos.filter((i) => i.source === 'metrics' && i.metricsUrl);
    if (remote.length === 0) return;
    if (pending) {
      await pending;
      if (!force) return;
    }
    const now = performance.now();
    if (!force && now - lastMetricsAt < 1000) return;
    lastMetricsAt = now;
    pending = Promise.all(
      remote.map(async (info) => {
        const asked = performance.now();
        const values = await readProcessMetrics(info.metricsUrl!);
        // A sample of its own, timed at the middle of the scrape (not at the next tick).
        const sample = generatorSample((asked + performance.now()) / 2 - origin);
        sample.processes[info.name] = values ?? { cpuSeconds: null, rssBytes: null };
        samples.push(sample);
      }),
    ).then(() => {
      pending = null;
    });
    await pending;
  };

  const take = () => {
    const sample = generatorSample(performance.now() - origin);
    for (const info of infos) {
      if (info.source !== 'proc') continue;
      const tree = sampleTree(info.pids ?? []);
      sample.processes[info.name] = tree
        ? { cpuSeconds: tree.cpuSeconds, rssBytes: tree.rssBytes }
        : { cpuSeconds: null, rssBytes: null };
    }
    samples.push(sample);
  };

  return {
    start(originMs) {
      origin = originMs;
      take();
      void refreshMetrics(true);
      timer = setInterval(() => {
        take();
        void refreshMetrics(false);
      }, intervalMs);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
      timer = null;
      await refreshMetrics(true);
      take();
      return { processes: infos, samples: samples.slice().sort((a, b) => a.t - b.t) };
    },
  };
}

function generatorSample(t: number): ResourceSample {
  const cpu = process.cpuUsage();
  const elu = performance.eventLoopUtilization();
  return {
    t,
    generator: { cpuSeconds: (cpu.user + cpu.system) / 1e6, eluActive: elu.active, eluIdle: elu.idle },
    processes: {},
  };
}
