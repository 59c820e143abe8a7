import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import {
  bindMounts,
  type ComposeFile,
  type ComposeService,
  environmentOf,
  hostPathFor,
  imageTagProblem,
  servicesOf,
} from './compose.ts';
import { REPO_ROOT } from './repo.ts';

/**
 * Tracing in docker-compose.yml's `observability` profile: the services → an OpenTelemetry
 * Collector (OTLP over HTTP) → a trace store with a UI (Jaeger), which Grafana has as a
 * datasource, and which Prometheus's exemplars link to. Statically: every hop names a service
 * that exists in the profile, on a port it exposes, from configuration files that exist.
 */
export const TRACED_SERVICES = ['legacy', 'modern', 'gateway'] as const;
/** The exemplar label the services write (@pilot/telemetry exemplarLabels). */
export const EXEMPLAR_LABEL = 'trace_id';

interface CollectorConfig {
  receivers?: Record<string, { protocols?: Record<string, { endpoint?: string } | null> } | null>;
  exporters?: Record<string, { endpoint?: string } | null>;
  service?: { pipelines?: Record<string, { receivers?: string[]; exporters?: string[] }> };
}

interface Datasource {
  uid?: string;
  type?: string;
  url?: string;
  jsonData?: { exemplarTraceIdDestinations?: Array<{ name?: string; datasourceUid?: string }> };
}

const inProfile = (compose: ComposeFile) =>
  servicesOf(compose).filter(([, s]) => s.profiles?.includes('observability'));

function portOf(endpoint: string): string | undefined {
  return /:(\d+)(?:\/|$)/.exec(endpoint)?.[1];
}

function hostOf(endpoint: string): string | undefined {
  try {
    return new URL(endpoint.includes('://') ? endpoint : `http://${endpoint}`).hostname;
  } catch {
    return undefined;
  }
}

function exposes(service: ComposeService, port: string): boolean {
  return (service.expose ?? []).map(String).includes(port);
}

/** The collector's config file (from its --config argument, through the bind mounts). */
function collectorConfig(
  service: ComposeService,
  root: string,
): { path: string | null; config: CollectorConfig | null } {
  const command = Array.isArray(service.command) ? service.command : [];
  const flag = command.find((c) => String(c).startsWith('--config='));
  const inContainer = flag ? String(flag).slice('--config='.length) : '/etc/otelcol-contrib/config.yaml';
  const path = hostPathFor(service, inContainer, root);
  if (!path || !existsSync(path)) return { path, config: null };
  return { path, config: parse(readFileSync(path, 'utf8')) as CollectorConfig };
}

/** Grafana's provisioned datasources (every file under the mounted provisioning/datasources). */
export function provisionedDatasources(grafana: ComposeService, root = REPO_ROOT): Datasource[] {
  const mount = bindMounts(grafana).find((m) => m.target === '/etc/grafana/provisioning');
  if (!mount) return [];
  const dir = join(root, mount.host, 'datasources');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yml') || f.endsWith('.yaml'))
    .flatMap(
      (f) => (parse(readFileSync(join(dir, f), 'utf8')) as { datasources?: Datasource[] }).datasources ?? [],
    );
}

export function checkTracing(compose: ComposeFile, root = REPO_ROOT): string[] {
  const problems: string[] = [];
  const profile = inProfile(compose);
  const byName = new Map(profile);
  const collector = profile.find(([, s]) => /^otel\/opentelemetry-collector(-contrib)?:/.test(s.image ?? ''));
  const store = profile.find(([, s]) => /^jaegertracing\/jaeger:/.test(s.image ?? ''));
  const grafana = profile.find(([, s]) => s.image?.startsWith('grafana/grafana:'));
  const prometheus = profile.find(([, s]) => s.image?.startsWith('prom/prometheus:'));
  if (!collector)
    problems.push('observability profile has no OpenTelemetry Collector (otel/opentelemetry-collector*)');
  if (!store) problems.push('observability profile has no trace store (jaegertracing/jaeger)');

  for (const entry of [collector, store]) {
    const problem = entry?.[1].image ? imageTagProblem(entry[1].image) : null;
    if (problem) problems.push(`${entry![0]}: ${problem}`);
  }

  let collectorOtlpHttp: string | undefined;
  if (collector) {
    const [name, service] = collector;
    const { path, config } = collectorConfig(service, root);
    if (!config) problems.push(`${name}: its --config is not a mounted repo file (${path ?? 'no mount'})`);
    else {
      const http = config.receivers?.otlp?.protocols?.http;
      collectorOtlpHttp = http?.endpoint ? portOf(http.endpoint) : undefined;
      if (collectorOtlpHttp !== '4318') problems.push(`${name}: no OTLP/HTTP receiver on 4318`);
      else if (!exposes(service, '4318')) problems.push(`${name}: does not expose 4318`);
      const traces = config.service?.pipelines?.traces;
      if (!traces?.receivers?.includes('otlp'))
        problems.push(`${name}: no traces pipeline from the otlp receiver`);
      for (const exporter of traces?.exporters ?? []) {
        const endpoint = config.exporters?.[exporter]?.endpoint;
        if (endpoint === undefined) {
          if (!(exporter in (config.exporters ?? {})))
            problems.push(`${name}: exporter ${exporter} is not defined`);
          continue;
        }
        const host = hostOf(endpoint);
        const port = portOf(endpoint);
        const target = host ? byName.get(host) : undefined;
        if (!target)
          problems.push(`${name}: exporter ${exporter} sends to ${endpoint}, not a service of the profile`);
        else if (!port || !exposes(target, port)) problems.push(`${name}: ${host} does not expose ${port}`);
      }
      if (
        !(traces?.exporters ?? []).some((e) => hostOf(config.exporters?.[e]?.endpoint ?? '') === store?.[0])
      ) {
        problems.push(`${name}: no traces exporter sends to the trace store`);
      }
    }
  }

  if (grafana && store) {
    const sources = provisionedDatasources(grafana[1], root);
    const traces = sources.find((d) => d.type === 'jaeger');
    if (!traces) problems.push('grafana: no jaeger datasource provisioned');
    else {
      if (traces.url !== `http://${store[0]}:16686`)
        problems.push(`grafana: jaeger datasource url ${traces.url}, expected http://${store[0]}:16686`);
      if (!exposes(store[1], '16686')) problems.push(`${store[0]}: does not expose its UI port 16686`);
      const prom = sources.find((d) => d.type === 'prometheus');
      const link = prom?.jsonData?.exemplarTraceIdDestinations?.find((d) => d.datasourceUid === traces.uid);
      if (!link)
        problems.push('grafana: the Prometheus datasource does not link exemplars to the trace datasource');
      else if (link.name !== EXEMPLAR_LABEL)
        problems.push(
          `grafana: exemplar link reads label ${link.name}, the services write ${EXEMPLAR_LABEL}`,
        );
    }
  }

  if (prometheus) {
    const command = (Array.isArray(prometheus[1].command) ? prometheus[1].command : []).map(String);
    const features = command
      .filter((c) => c.startsWith('--enable-feature='))
      .flatMap((c) => c.slice('--enable-feature='.length).split(','));
    if (!features.includes('exemplar-storage')) problems.push('prometheus: exemplar storage is not enabled');
  }

  for (const name of TRACED_SERVICES) {
    const service = compose.services[name];
    if (!service) continue;
    const env = environmentOf(service);
    if (!('OTEL_EXPORTER_OTLP_ENDPOINT' in env))
      problems.push(`${name}: OTEL_EXPORTER_OTLP_ENDPOINT is not passed on`);
  }
  return problems;
}
