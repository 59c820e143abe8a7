/// <reference path="./prometheus-text.d.ts" />
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import type { CustomReading } from './gates.ts';
import type { CustomGateConfig } from './schema.ts';

/**
 * Custom gates: a value read from Prometheus text at a URL (a service's /metrics, an exporter).
 * The text is parsed by parse-prometheus-text-format; the selector (`name{label="v",...}`,
 * exact matches) picks series, whose values are summed. `name_count` / `name_sum` select the
 * count / sum of a histogram or summary called `name`.
 */
const MAX_BYTES = 4 * 1024 * 1024;

export interface Selector {
  name: string;
  labels: Record<string, string>;
}

export function parseSelector(text: string): Selector {
  const brace = text.indexOf('{');
  if (brace === -1) return { name: text.trim(), labels: {} };
  const labels: Record<string, string> = {};
  const re = /([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"/g;
  for (const m of text.slice(brace).matchAll(re))
    labels[m[1]!] = m[2]!.replace(/\\(.)/g, (_s, c: string) => (c === 'n' ? '\n' : c));
  return { name: text.slice(0, brace).trim(), labels };
}

/**
 * Sum of the selected series in a Prometheus text document; null when no series matches.
 * Throws an Error naming the problem when the text is not Prometheus text.
 */
export function selectValue(text: string, selector: Selector): number | null {
  let families: ReturnType<typeof parsePrometheusTextFormat>;
  try {
    families = parsePrometheusTextFormat(text.endsWith('\n') ? text : `${text}\n`);
  } catch (error) {
    throw new Error(`unreadable Prometheus text: ${(error as Error).message.slice(0, 200)}`);
  }
  const suffix = /_(count|sum)$/.exec(selector.name);
  let sum = 0;
  let found = false;
  for (const family of families) {
    let field: 'value' | 'count' | 'sum' | null = null;
    if (family.name === selector.name) field = 'value';
    else if (suffix && family.name === selector.name.slice(0, -suffix[0].length))
      field = suffix[1] as 'count' | 'sum';
    if (!field) continue;
    for (const sample of family.metrics) {
      const labels = sample.labels ?? {};
      if (!Object.entries(selector.labels).every(([k, v]) => labels[k] === v)) continue;
      const raw = sample[field];
      const value = raw === undefined ? Number.NaN : Number(raw);
      if (!Number.isFinite(value)) continue;
      sum += value;
      found = true;
    }
  }
  return found ? sum : null;
}

export async function readCustomGate(gate: CustomGateConfig): Promise<CustomReading> {
  try {
    const res = await fetch(gate.url, {
      signal: AbortSignal.timeout(gate.timeoutMs),
      redirect: 'error',
      headers: { accept: 'text/plain', 'user-agent': 'pilot-gateway-rollout' },
    });
    if (!res.ok) {
      await res.body?.cancel();
      return { value: null, error: `HTTP ${res.status} from ${gate.url}` };
    }
    if (Number(res.headers.get('content-length') ?? 0) > MAX_BYTES) {
      await res.body?.cancel();
      return { value: null, error: 'metrics text over 4 MiB' };
    }
    const text = (await res.text()).slice(0, MAX_BYTES);
    const value = selectValue(text, parseSelector(gate.metric));
    return value === null ? { value: null, error: `no series ${gate.metric} at ${gate.url}` } : { value };
  } catch (error) {
    const e = error as Error;
    return {
      value: null,
      error: e.name === 'TimeoutError' ? `timeout after ${gate.timeoutMs} ms` : e.message,
    };
  }
}

/**
 * Reads every custom gate of a rollout. Gates with `increase` report the growth since the
 * previous reading (kept in `previous`, per gate name); the first reading has no growth yet.
 */
export async function readCustomGates(
  gates: CustomGateConfig[],
  previous: Map<string, number>,
): Promise<Record<string, CustomReading>> {
  const out: Record<string, CustomReading> = {};
  await Promise.all(
    gates.map(async (gate) => {
      const reading = await readCustomGate(gate);
      if (!gate.increase || reading.value === null) {
        out[gate.name] = reading;
        return;
      }
      const before = previous.get(gate.name);
      previous.set(gate.name, reading.value);
      out[gate.name] =
        before === undefined || reading.value < before
          ? { value: null, error: 'first reading of a counter: its increase is known from the next check on' }
          : { value: reading.value - before };
    }),
  );
  return out;
}
