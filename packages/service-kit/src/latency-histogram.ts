import type { MetricValueWithName } from 'prom-client';

/** One label set's latencies: `observe` is a bucket search and three additions. */
export interface LatencySeries {
  /** Records one latency in seconds; `exemplar` (trace_id) is kept for the bucket it lands in. */
  observe(seconds: number, exemplar?: Record<string, string>): void;
}

interface Exemplar {
  labelSet: Record<string, string>;
  value: number;
  timestamp: number;
}

interface Series {
  labels: Record<string, string>;
  /** Per bucket, not cumulative; the last slot is above every bound (+Inf only). */
  counts: number[];
  sum: number;
  count: number;
  exemplars: Array<Exemplar | null> | undefined;
}

type Value = MetricValueWithName<string> & {
  sharedLabels?: Record<string, string>;
  exemplar?: Exemplar | null;
};

/** The metric object a registry reads (prom-client's MetricObjectWithValues, without `collect`). */
export interface HistogramData {
  name: string;
  help: string;
  type: 'histogram';
  values: Value[];
  aggregator: 'sum';
}

/**
 * A Prometheus histogram that a prom-client Registry renders exactly as it renders prom-client's
 * own Histogram (same values, order, exemplars, `get()` shape for the cluster aggregator): a
 * registry reads any metric through `get()` / `getForPromString()`. Hand-written because
 * prom-client's `observe` validates and hashes the label set and indexes the bucket by its bound
 * turned into a string on every call (~4 k instructions of a ~107 k cached read under callgrind),
 * and has no way to add observations in bulk; a series per label set, held by the caller, needs
 * none of that. The test renders both side by side on generated observations.
 */
export class LatencyHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  readonly buckets: readonly number[];
  readonly #exemplars: boolean;
  #series: Series[] = [];

  constructor(options: {
    name: string;
    help: string;
    labelNames: readonly string[];
    buckets: readonly number[];
    enableExemplars?: boolean;
  }) {
    this.name = options.name;
    this.help = options.help;
    this.labelNames = options.labelNames;
    this.buckets = [...options.buckets].sort((a, b) => a - b);
    this.#exemplars = options.enableExemplars === true;
  }

  /** A new series for one label set: create it once per label set and keep it. */
  series(labels: Record<string, string>): LatencySeries {
    const bounds = this.buckets;
    const s: Series = {
      labels,
      counts: new Array<number>(bounds.length + 1).fill(0),
      sum: 0,
      count: 0,
      exemplars: this.#exemplars ? new Array<Exemplar | null>(bounds.length + 1).fill(null) : undefined,
    };
    this.#series.push(s);
    return {
      observe(seconds, exemplar) {
        if (!Number.isFinite(seconds)) throw new TypeError(`Value is not a valid number: ${seconds}`);
        let i = 0;
        while (i < bounds.length && seconds > bounds[i]!) i++;
        s.counts[i]!++;
        s.sum += seconds;
        s.count++;
        if (exemplar && s.exemplars)
          s.exemplars[i] = { labelSet: exemplar, value: seconds, timestamp: Date.now() / 1000 };
      },
    };
  }

  /** What prom-client's Histogram#getForPromString returns: bucket labels apart from the series'. */
  async getForPromString(): Promise<HistogramData> {
    const values: Value[] = [];
    const bucket = `${this.name}_bucket`;
    for (const s of this.#series) {
      // a series exists from its first observation on, as prom-client's label sets do
      if (s.count === 0) continue;
      let acc = 0;
      for (let i = 0; i < this.buckets.length; i++) {
        acc += s.counts[i]!;
        values.push(value({ le: this.buckets[i]! }, acc, bucket, s.exemplars?.[i] ?? null, s.labels));
      }
      // prom-client keeps no +Inf slot until an exemplar lands there: undefined, not null
      const inf = s.exemplars ? (s.exemplars[this.buckets.length] ?? undefined) : null;
      values.push(value({ le: '+Inf' }, s.count, bucket, inf, s.labels));
      values.push(value({}, s.sum, `${this.name}_sum`, undefined, s.labels));
      values.push(value({}, s.count, `${this.name}_count`, undefined, s.labels));
    }
    return { name: this.name, help: this.help, type: 'histogram', values, aggregator: this.aggregator };
  }

  /** What prom-client's Histogram#get returns: the series' labels after `le`. */
  async get(): Promise<HistogramData> {
    const data = await this.getForPromString();
    data.values = data.values.map(({ sharedLabels, labels, ...rest }) => ({
      ...rest,
      labels: { ...labels, ...sharedLabels },
    }));
    return data;
  }

  /** Zeroes every series (prom-client's `registry.resetMetrics()` calls it). */
  reset(): void {
    for (const s of this.#series) {
      s.counts.fill(0);
      s.sum = 0;
      s.count = 0;
      s.exemplars?.fill(null);
    }
  }
}

function value(
  labels: Record<string, string | number>,
  v: number,
  metricName: string,
  exemplar: Exemplar | null | undefined,
  sharedLabels: Record<string, string>,
): Value {
  return { labels, sharedLabels, value: v, metricName, exemplar };
}
