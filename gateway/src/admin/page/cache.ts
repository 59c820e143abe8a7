/**
 * Cache hit ratio of the services, for the control page: each backend's Prometheus text from
 * `<backend url>/metrics`, counter `cache_events_total{client,kind}` (written by
 * @pilot/service-kit's attachStrapiMetrics), summed over clients per kind.
 *
 * hit ratio = (hit + stale + coalesced) / (hit + stale + coalesced + miss): the share of
 * lookups Strapi did not have to answer itself; `bypass` (uncached calls) is left out.
 * The counters are totals since the service started; the page turns successive scrapes into a
 * recent ratio itself.
 */
export interface CacheCounts {
  hit: number;
  miss: number;
  stale: number;
  coalesced: number;
  bypass: number;
}

export type BackendCache =
  | ({ ok: true; lookups: number; hitRatio: number | null } & CacheCounts)
  | { ok: false; error: string };

export interface CacheScrape {
  scrapedAt: string;
  backends: Record<string, BackendCache>;
}

const KINDS = ['hit', 'miss', 'stale', 'coalesced', 'bypass'] as const;
const LINE = /^cache_events_total\{([^}]*)\}\s+([0-9.eE+-]+|NaN|[+-]Inf)(?:\s+\d+)?$/;
const KIND = /(?:^|,)\s*kind="([^"]*)"/;

/** Sums `cache_events_total` per kind; null when the text has no such counter. */
export function parseCacheCounts(text: string): CacheCounts | null {
  const counts: CacheCounts = { hit: 0, miss: 0, stale: 0, coalesced: 0, bypass: 0 };
  let seen = false;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line.startsWith('cache_events_total{')) continue;
    const m = LINE.exec(line);
    if (!m) continue;
    const kind = KIND.exec(m[1]!)?.[1];
    const value = Number(m[2]);
    if (!kind || !Number.isFinite(value)) continue;
    seen = true;
    if ((KINDS as readonly string[]).includes(kind)) counts[kind as keyof CacheCounts] += value;
  }
  return seen ? counts : null;
}

export function hitRatio(c: CacheCounts): { lookups: number; hitRatio: number | null } {
  const served = c.hit + c.stale + c.coalesced;
  const lookups = served + c.miss;
  return { lookups, hitRatio: lookups === 0 ? null : Math.round((served / lookups) * 10_000) / 10_000 };
}

const MAX_METRICS_BYTES = 4 * 1024 * 1024;

async function scrapeOne(url: URL, timeoutMs: number): Promise<BackendCache> {
  try {
    const res = await fetch(new URL('/metrics', url), {
      signal: AbortSignal.timeout(timeoutMs),
      redirect: 'error',
      headers: { accept: 'text/plain', 'user-agent': 'pilot-gateway-control-page' },
    });
    if (!res.ok) {
      await res.body?.cancel();
      return { ok: false, error: `HTTP ${res.status}` };
    }
    const length = Number(res.headers.get('content-length') ?? 0);
    if (length > MAX_METRICS_BYTES) {
      await res.body?.cancel();
      return { ok: false, error: 'metrics too large' };
    }
    const text = await res.text();
    const counts = parseCacheCounts(text.slice(0, MAX_METRICS_BYTES));
    if (!counts) return { ok: false, error: 'no cache_events_total in its /metrics' };
    return { ok: true, ...counts, ...hitRatio(counts) };
  } catch (error) {
    const e = error as Error;
    return { ok: false, error: e.name === 'TimeoutError' ? `timeout after ${timeoutMs} ms` : e.message };
  }
}

export async function scrapeCache(
  backends: Array<{ name: string; url: URL }>,
  timeoutMs = 1500,
): Promise<CacheScrape> {
  const results = await Promise.all(backends.map((b) => scrapeOne(b.url, timeoutMs)));
  return {
    scrapedAt: new Date().toISOString(),
    backends: Object.fromEntries(backends.map((b, i) => [b.name, results[i]!])),
  };
}
