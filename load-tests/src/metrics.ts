// Reading the services' Prometheus /metrics to count upstream (Strapi) calls per run.
// The metric names live HERE only; change them here when the services name theirs.

/**
 * Counters summed (over all label sets) to get "upstream calls": how many requests the
 * services sent to Strapi. The first name a service exposes wins; none → the table shows "-".
 */
export const UPSTREAM_CALL_METRICS = ['strapi_upstream_requests_total'] as const;

/**
 * Response headers that may name the backend that answered (the gateway's is `x-backend`
 * unless `settings.backendHeader` says otherwise; the others are what common proxies use).
 * The runner counts their values so compare can relate gateway numbers to the backend that
 * actually served them.
 */
export const BACKEND_HEADERS = ['x-pilot-backend', 'x-backend', 'x-served-by', 'x-upstream'] as const;

/**
 * Sum of a counter's samples across label sets in Prometheus text exposition format
 * (0 when it is declared without samples), or null when the metric is absent. `name` may be given with or without `_total`.
 */
export function sumCounter(text: string, name: string): number | null {
  const names = new Set([name, name.endsWith('_total') ? name.slice(0, -'_total'.length) : `${name}_total`]);
  let found = false;
  let sum = 0;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    // A declared counter without samples yet (prom-client before its first inc) counts as 0.
    const declared = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) /.exec(line);
    if (declared && names.has(declared[1]!)) found = true;
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})?\s+(\S+)/.exec(line);
    if (!match || !names.has(match[1]!)) continue;
    const value = Number(match[3]);
    if (!Number.isFinite(value)) continue;
    found = true;
    sum += value;
  }
  return found ? sum : null;
}

/** Upstream calls reported by one service right now, or null (no /metrics or no counter). */
export async function readUpstreamCalls(baseUrl: string, timeoutMs = 2000): Promise<number | null> {
  try {
    const res = await fetch(`${baseUrl}/metrics`, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) {
      await res.body?.cancel();
      return null;
    }
    const text = await res.text();
    for (const name of UPSTREAM_CALL_METRICS) {
      const value = sumCounter(text, name);
      if (value !== null) return value;
    }
    return null;
  } catch {
    return null;
  }
}

/** Sum of upstream calls over several services; null when none of them exposes the counter. */
export async function readTotalUpstreamCalls(urls: string[]): Promise<number | null> {
  const values = await Promise.all(urls.map((url) => readUpstreamCalls(url)));
  const present = values.filter((v): v is number => v !== null);
  return present.length === 0 ? null : present.reduce((a, b) => a + b, 0);
}

/**
 * prom-client's default process metrics, read for the CPU and memory of a service this
 * machine cannot see in /proc (another user's process, a container, another host).
 */
export const PROCESS_METRICS = {
  cpuSeconds: 'process_cpu_seconds_total',
  rssBytes: 'process_resident_memory_bytes',
} as const;

export interface ProcessMetrics {
  cpuSeconds: number | null;
  rssBytes: number | null;
}

/** The process metrics of one /metrics endpoint (full URL), or null when it does not answer. */
export async function readProcessMetrics(
  metricsUrl: string,
  timeoutMs = 2000,
): Promise<ProcessMetrics | null> {
  try {
    const res = await fetch(metricsUrl, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) {
      await res.body?.cancel();
      return null;
    }
    const text = await res.text();
    return {
      cpuSeconds: sumCounter(text, PROCESS_METRICS.cpuSeconds),
      rssBytes: sumCounter(text, PROCESS_METRICS.rssBytes),
    };
  } catch {
    return null;
  }
}
