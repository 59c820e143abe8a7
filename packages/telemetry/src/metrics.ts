import { type OpenMetricsContentType, Registry } from 'prom-client';

/**
 * /metrics with content negotiation: OpenMetrics (which carries exemplars) for a scraper that
 * asks for it — Prometheus does — and the Prometheus text format otherwise, so curl, the
 * rollout gates and anything else reading the old format see no change.
 *
 * prom-client renders exemplars only from a registry whose content type is OpenMetrics, and
 * when it renders OpenMetrics it renames counters in place (drops `_total` from the metric
 * object); switching the shared registry back and forth would break the next Prometheus-text
 * scrape. So OpenMetrics is rendered through a throwaway registry of views onto the same
 * metrics: nothing is copied or renamed on the real ones.
 */
export function wantsOpenMetrics(accept: string | string[] | undefined): boolean {
  const value = Array.isArray(accept) ? accept.join(',') : accept;
  if (!value?.includes('application/openmetrics-text')) return false;
  return value.split(',').some((part) => {
    const [type, ...params] = part.split(';').map((s) => s.trim());
    if (type !== 'application/openmetrics-text') return false;
    const q = params.find((p) => p.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  });
}

type Data = { name: string };
type Readable = {
  name: string;
  help: string;
  type: string;
  aggregator: string;
  get(): Promise<Data>;
  getForPromString?: () => Promise<Data>;
};

function view(metric: Readable): Readable {
  const rename = (data: Data): Data =>
    metric.type === 'counter' ? { ...data, name: data.name.replace(/_total$/, '') } : data;
  const out = {
    name: metric.name,
    help: metric.help,
    type: metric.type,
    aggregator: metric.aggregator,
    get: async () => rename(await metric.get()),
  } as Readable;
  if (typeof metric.getForPromString === 'function') {
    const own = metric.getForPromString.bind(metric);
    out.getForPromString = async () => rename(await own());
  }
  return out;
}

/** What renderMetrics needs of a prom-client registry (any content type, aggregated or not). */
export interface MetricsSource {
  readonly contentType: string;
  metrics(): Promise<string>;
  getMetricsAsArray(): unknown[];
}

export async function renderMetrics(
  registry: MetricsSource,
  accept: string | string[] | undefined,
): Promise<{ contentType: string; body: string }> {
  if (!wantsOpenMetrics(accept) || registry.contentType === Registry.OPENMETRICS_CONTENT_TYPE) {
    return { contentType: registry.contentType, body: await registry.metrics() };
  }
  const om = new Registry<OpenMetricsContentType>();
  om.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
  const defaults = (registry as unknown as { _defaultLabels?: Record<string, string> })._defaultLabels;
  if (defaults && Object.keys(defaults).length > 0) om.setDefaultLabels(defaults);
  for (const metric of registry.getMetricsAsArray()) om.registerMetric(view(metric as Readable) as never);
  return { contentType: om.contentType, body: await om.metrics() };
}
