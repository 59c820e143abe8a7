import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { parseTable, readEnv } from '@pilot/gateway';
import { type ConfigError, loadServiceConfig } from '@pilot/service-kit';
import { describe, expect, it } from 'vitest';
import {
  type ComposeFile,
  checkBindMounts,
  checkBuilds,
  checkCoreServices,
  checkDependsOn,
  checkHealthchecks,
  checkHostPortConflicts,
  checkImagesPinned,
  checkLoadtestProfile,
  checkObservabilityProfile,
  checkScaling,
  composeProblems,
  environmentOf,
  envExample,
  filledEnv,
  InterpolationError,
  loadCompose,
  parseCompose,
  publishedPorts,
  repoPath,
  replicasOf,
  requiredVariables,
  SCALABLE_SERVICES,
  validateComposeSchema,
} from '../src/index.ts';

/** What a user's .env holds after filling in .env.example (fresh random secrets). */
const dotEnv = filledEnv();
const compose = loadCompose(undefined, dotEnv);
const { raw, resolved } = compose;
/** A deep copy of the resolved file to break in one place. */
const mutate = (change: (c: ComposeFile) => void): ComposeFile => {
  const copy = structuredClone(resolved);
  change(copy);
  return copy;
};

describe('docker-compose.yml against the Compose Specification schema', () => {
  it('validates as written and after interpolation with the defaults', () => {
    expect(validateComposeSchema(raw)).toEqual([]);
    expect(validateComposeSchema(resolved)).toEqual([]);
  });

  it('still validates with every override a user is told about set', () => {
    const env = {
      LEGACY_REPLICAS: '4',
      MODERN_REPLICAS: '3',
      GATEWAY_REPLICAS: '3',
      GATEWAY_PUBLISH: '9080',
      SMOKE: '1',
      ...dotEnv,
    };
    const custom = loadCompose(undefined, env).resolved;
    expect(validateComposeSchema(custom)).toEqual([]);
    expect(replicasOf(custom.services.legacy!)).toBe(4);
    expect(composeProblems(custom)).toEqual([]);
  });

  it('rejects what the specification forbids (the validator is really on)', () => {
    const bad = mutate((c) => {
      (c.services.legacy!.depends_on as Record<string, { condition: string }>).redis!.condition =
        'service_ready';
      (c as Record<string, unknown>).servics = {};
      (c.services.modern as Record<string, unknown>).healthchek = {};
    });
    const problems = validateComposeSchema(bad).join('\n');
    expect(problems).toContain('servics');
    expect(problems).toContain('healthchek');
    expect(problems).toContain('service_healthy');
  });
});

describe('docker-compose.yml project rules', () => {
  it('holds every rule', () => {
    expect(composeProblems(resolved)).toEqual([]);
  });

  it('has redis, cms, legacy, modern and gateway', () => {
    expect(checkCoreServices(resolved)).toEqual([]);
    expect(checkCoreServices(mutate((c) => delete c.services.redis))).toEqual(['service "redis" is missing']);
  });

  it('gives every service a healthcheck; only a one-shot job may disable it', () => {
    expect(checkHealthchecks(resolved)).toEqual([]);
    expect(checkHealthchecks(mutate((c) => delete c.services.cms!.healthcheck))).toEqual([
      'cms: no healthcheck',
    ]);
    expect(checkHealthchecks(mutate((c) => (c.services.gateway!.healthcheck = { disable: true })))).toEqual([
      'gateway: healthcheck disabled on a long-running service',
    ]);
  });

  it('waits for dependencies with condition: service_healthy', () => {
    expect(checkDependsOn(resolved)).toEqual([]);
    const started = mutate((c) => {
      (c.services.gateway!.depends_on as Record<string, { condition: string }>).legacy = {
        condition: 'service_started',
      };
    });
    expect(checkDependsOn(started)).toEqual([
      'gateway: depends_on legacy has condition service_started, expected service_healthy',
    ]);
    expect(checkDependsOn(mutate((c) => (c.services.legacy!.depends_on = ['redis'])))).toEqual([
      'legacy: depends_on is a list; use {service: {condition: service_healthy}}',
    ]);
    const onJob = mutate((c) => {
      (c.services.gateway!.depends_on as Record<string, { condition: string }>).k6 = {
        condition: 'service_healthy',
      };
    });
    expect(checkDependsOn(onJob)).toContain(
      'gateway: depends_on k6 (service_healthy) but k6 has no healthcheck',
    );
    const cycle = mutate((c) => {
      (c.services.redis!.depends_on as unknown) = { gateway: { condition: 'service_healthy' } };
    });
    expect(checkDependsOn(cycle).join('\n')).toMatch(/depends_on cycle: .*redis/);
  });

  it('scales legacy, modern and gateway: replicas ≥ 2, no host ports, no container_name', () => {
    expect(checkScaling(resolved)).toEqual([]);
    for (const name of SCALABLE_SERVICES) {
      expect(replicasOf(resolved.services[name]!)).toBeGreaterThanOrEqual(2);
      expect(publishedPorts(name, resolved.services[name]!)).toEqual([]);
    }
    const fixed = mutate((c) => {
      c.services.legacy!.ports = ['3001:3001'];
      c.services.modern!.container_name = 'modern';
      c.services.gateway!.deploy = { replicas: 1 };
    });
    expect(checkScaling(fixed)).toEqual([
      'legacy: publishes host ports (["3001:3001"]); scaled services use expose only',
      'modern: container_name prevents scaling',
      'gateway: deploy.replicas should default to at least 2 (got 1)',
    ]);
  });

  it('publishes each host port once (edge owns 8080/8081, cms 1337 on loopback)', () => {
    expect(checkHostPortConflicts(resolved)).toEqual([]);
    const published = Object.entries(resolved.services).flatMap(([n, s]) => publishedPorts(n, s));
    expect(published.map((p) => `${p.service}:${p.hostPort}`).sort()).toEqual(
      ['cms:1337', 'edge:8080', 'edge:8081', 'grafana:3000', 'jaeger:16686', 'prometheus:9090'].sort(),
    );
    // Admin surfaces are reachable from this machine only.
    for (const p of published.filter((x) => x.service !== 'edge' || x.containerPort === '8081')) {
      expect(p.hostIp, `${p.service}:${p.hostPort}`).toBe('127.0.0.1');
    }
    const clash = mutate((c) => (c.services.grafana!.ports = ['8080:3000']));
    expect(checkHostPortConflicts(clash)).toEqual(['host port 8080/tcp published by both edge and grafana']);
    const ipv4Only = mutate((c) => (c.services.grafana!.ports = ['127.0.0.1:1337:3000']));
    expect(checkHostPortConflicts(ipv4Only)).toEqual([
      'host port 1337/tcp published by both cms and grafana',
    ]);
  });

  it('pins every image (explicit tag, never latest)', () => {
    expect(checkImagesPinned(resolved)).toEqual([]);
    const latest = mutate((c) => {
      c.services.redis!.image = 'redis';
      c.services.edge!.image = 'haproxy:latest';
    });
    expect(checkImagesPinned(latest)).toEqual([
      'redis: image "redis" has no tag (means :latest)',
      'edge: image "haproxy:latest" uses the latest tag',
    ]);
  });

  it('bind-mounts only repo files that exist, read-only', () => {
    expect(checkBindMounts(resolved)).toEqual([]);
    const missing = mutate(
      (c) => (c.services.edge!.volumes = ['./docker/edge/nope.cfg:/x:ro', './docker/edge/haproxy.cfg:/y']),
    );
    expect(checkBindMounts(missing)).toEqual([
      'edge: bind mount source ./docker/edge/nope.cfg does not exist',
      'edge: bind mount ./docker/edge/haproxy.cfg is writable; mount repo files :ro',
    ]);
  });

  it('builds real workspace packages from the repo root with an existing Dockerfile and entry point', () => {
    expect(checkBuilds(resolved)).toEqual([]);
    const wrong = mutate((c) => {
      const build = c.services.modern!.build as { args: Record<string, string>; context: string };
      build.args.APP_PACKAGE = '@pilot/nope';
      build.context = './apps/modern';
    });
    expect(checkBuilds(wrong)).toEqual([
      'modern: build.context must be "." (the repo root), got ./apps/modern',
      'modern: APP_PACKAGE @pilot/nope is not a workspace package',
    ]);
  });

  it('runs k6 (grafana/k6) with a script and catalogue that exist, against the gateway, in the loadtest profile', () => {
    expect(checkLoadtestProfile(resolved)).toEqual([]);
    const k6 = resolved.services.k6!;
    expect(k6.profiles).toEqual(['loadtest']);
    expect(k6.image).toMatch(/^grafana\/k6:\d+\.\d+\.\d+$/);
    const broken = mutate((c) => {
      c.services.k6!.command = ['run', '/load-tests/k6/missing.js'];
      c.services.k6!.image = 'grafana/k6:latest';
    });
    expect(checkLoadtestProfile(broken)).toEqual([
      'k6: image must be grafana/k6:<x.y.z>, got grafana/k6:latest',
      expect.stringMatching(
        /^k6: script \/load-tests\/k6\/missing\.js → .*load-tests\/k6\/missing\.js does not exist$/,
      ),
    ]);
  });

  it('has an observability profile whose Prometheus scrapes every /metrics', () => {
    expect(checkObservabilityProfile(resolved)).toEqual([]);
    for (const name of ['prometheus', 'grafana'])
      expect(resolved.services[name]!.profiles).toEqual(['observability']);
    const noGateway = mutate((c) => delete (c.services.prometheus as Record<string, unknown>).volumes);
    expect(checkObservabilityProfile(noGateway)).toEqual([
      'prometheus: /etc/prometheus/prometheus.yml is not a mounted repo file',
    ]);
  });

  it('starts the default stack without any profile service', () => {
    const always = Object.entries(resolved.services)
      .filter(([, s]) => !s.profiles?.length)
      .map(([n]) => n);
    expect(always.sort()).toEqual(['cms', 'edge', 'gateway', 'legacy', 'modern', 'redis', 'upstreams']);
  });
});

describe('edge (HAProxy) in front of the gateway replicas', () => {
  const cfg = readFileSync(repoPath('docker/edge/haproxy.cfg'), 'utf8');
  const lines = cfg.split('\n').map((l) => l.trim());
  const gatewayArgs = (resolved.services.gateway!.build as { args: Record<string, string> }).args;

  it('discovers every gateway replica by DNS and health-checks each on its admin /healthz', () => {
    const templates = lines.filter((l) => l.startsWith('server-template'));
    expect(templates.map((t) => t.split(/\s+/)[3])).toEqual(['gateway:8080', 'gateway:8081']);
    for (const t of templates) {
      const slots = Number(t.split(/\s+/)[2]!.split('-')[1]);
      expect(slots).toBeGreaterThanOrEqual(replicasOf(resolved.services.gateway!) * 2);
    }
    expect(templates[0]).toContain(`check port ${gatewayArgs.HEALTH_PORT}`);
    expect(lines.filter((l) => l.startsWith('option httpchk'))).toEqual([
      `option httpchk GET ${gatewayArgs.HEALTH_PATH}`,
      `option httpchk GET ${gatewayArgs.HEALTH_PATH}`,
    ]);
    expect(lines).toContain('nameserver dns 127.0.0.11:53');
  });

  it('binds the ports compose publishes, and its healthcheck probes its monitor URI', () => {
    const binds = lines.filter((l) => l.startsWith('bind ')).map((l) => l.split(':')[1]);
    const edge = resolved.services.edge!;
    for (const p of publishedPorts('edge', edge)) expect(binds).toContain(p.containerPort);
    const monitor = lines.find((l) => l.startsWith('monitor-uri'))!.split(/\s+/)[1];
    const test = (edge.healthcheck!.test as string[]).join(' ');
    expect(test).toContain(`:8404${monitor}`);
    expect(binds).toContain('8404');
  });
});

describe('docker-compose.yml environment', () => {
  const env = (name: string) => environmentOf(resolved.services[name]!);

  it('gives legacy and modern an environment @pilot/service-kit accepts in production', () => {
    for (const name of ['legacy', 'modern']) {
      const config = loadServiceConfig(env(name), { port: 0 });
      expect(config.NODE_ENV).toBe('production');
      expect(config.HOST).toBe('0.0.0.0');
      expect(config.REDIS_URL).toBe('redis://redis:6379');
      expect(new URL(config.STRAPI_URL).host).toBe('cms:1337');
      expect(config.WEBHOOK_SECRET, 'webhook refuses everything without it').toBeTruthy();
    }
    expect(env('legacy').LEGACY_PORT).toBe('3001');
    expect(env('modern').MODERN_PORT).toBe('3002');
  });

  it('shares the Strapi tokens and the webhook secret between the CMS and the services', () => {
    for (const key of ['STRAPI_READ_TOKEN', 'STRAPI_WRITE_TOKEN', 'WEBHOOK_SECRET']) {
      expect(env('cms')[key], key).toBe(env('legacy')[key]);
      expect(env('cms')[key], key).toBe(env('modern')[key]);
    }
    expect(new URL(env('cms').MODERN_WEBHOOK_URL!).host).toBe('modern:3002');
  });

  it('points the gateway at the app services by name and keeps its state in the shared Redis', () => {
    const gateway = env('gateway');
    expect(gateway.LEGACY_URL).toBe('http://legacy:3001');
    expect(gateway.MODERN_URL).toBe('http://modern:3002');
    expect(gateway.REDIS_URL).toBe(env('legacy').REDIS_URL);
    expect(gateway.GATEWAY_ADMIN_TOKEN).toBeTruthy();
    const routes = resolved.services.gateway!.volumes?.find(
      (v) => typeof v === 'string' && v.includes(gateway.GATEWAY_ROUTES!),
    );
    expect(routes).toBe('./gateway/routes.yaml:/etc/pilot/routes.yaml:ro');
  });

  it('gives the gateway an environment its own validation accepts, and resolves the table to the app services', () => {
    const gateway = readEnv(env('gateway'));
    expect(gateway.GATEWAY_ADMIN_HOST).toBe('0.0.0.0');
    expect(gateway.GATEWAY_WRITE_BACK).toBe(false);
    expect(gateway.GATEWAY_WORKERS).toBe(1);
    expect(resolved.services.gateway!.expose).toEqual([
      String(gateway.GATEWAY_PORT),
      String(gateway.GATEWAY_ADMIN_PORT),
    ]);
    const table = parseTable(
      readFileSync(repoPath('gateway/routes.yaml'), 'utf8'),
      'routes.yaml',
      env('gateway'),
    );
    const urls = Object.fromEntries([...table.backends].map(([name, spec]) => [name, spec.url.origin]));
    expect(urls).toEqual({ legacy: 'http://legacy:3001', modern: 'http://modern:3002' });
  });

  it('lets the loadtest profile log in: k6 overrides the catalogue login with a user of AUTH_USERS', () => {
    const catalogue = JSON.parse(readFileSync(repoPath('load-tests/scenarios.json'), 'utf8')) as {
      vars: Record<string, string>;
    };
    const k6 = env('k6');
    // the k6 runner reads a catalogue var <name> from VAR_<name>
    expect(Object.keys(catalogue.vars)).toEqual(expect.arrayContaining(['loginUsername', 'loginPassword']));
    for (const name of ['legacy', 'modern']) {
      const users = loadServiceConfig(env(name), { port: 0 }).AUTH_USERS;
      expect(users, name).toContainEqual(
        expect.objectContaining({ username: k6.VAR_loginUsername, password: k6.VAR_loginPassword }),
      );
    }
  });

  it('fails interpolation loudly on a malformed variable', () => {
    expect(() => parseCompose('services:\n  a:\n    image: "x:${TAG"\n')).toThrow(/unterminated/);
  });
});

describe('docker-compose.yml ships no secret', () => {
  const text = readFileSync(repoPath('docker-compose.yml'), 'utf8');
  const required = requiredVariables(text);
  const SECRETISH = /SECRET|TOKEN|PASSWORD|APP_KEYS|SALT|ENCRYPTION_KEY|AUTH_USERS/;

  it('every credential of every service is required from .env, none has a default', () => {
    const credentials = Object.entries(compose.raw.services).flatMap(([service, definition]) =>
      Object.entries(environmentOf(definition))
        .filter(([name]) => SECRETISH.test(name) && !name.startsWith('VAR_'))
        .map(([name, value]) => ({ service, name, value })),
    );
    expect(credentials.length).toBeGreaterThan(15);
    for (const { service, name, value } of credentials)
      expect(value, `${service}.${name}`).toMatch(
        /^\$\{[A-Z_]+:\?set [A-Z_]+ in \.env \(see \.env\.example\)\}$/,
      );
  });

  it('without a .env it does not start, naming the missing variable', () => {
    expect(() => loadCompose()).toThrow(InterpolationError);
    for (const name of required) {
      const { [name]: _removed, ...without } = dotEnv;
      expect(() => loadCompose(undefined, without), name).toThrow(
        new RegExp(`^${name}: set ${name} in \\.env`),
      );
      expect(() => loadCompose(undefined, { ...without, [name]: '' }), `${name} empty`).toThrow(
        InterpolationError,
      );
    }
  });

  it('.env.example lists every required variable, with no value', () => {
    const example = envExample();
    expect(Object.keys(example)).toEqual(expect.arrayContaining(required));
    for (const [name, value] of Object.entries(example)) expect(value, name).toBe('');
  });

  it('a .env holding the repository’s demo values: every service refuses to start, naming each variable', () => {
    const demo = {
      ...dotEnv,
      JWT_SECRET: 'compose-demo-jwt-secret-change-me-0123456789abcdef',
      STRAPI_READ_TOKEN: 'compose-read-token-0000000000000000000000000000000000',
      STRAPI_WRITE_TOKEN: 'local-write-token-0000000000000000000000000000000000000000',
      WEBHOOK_SECRET: 'compose-demo-webhook-secret-change-me',
      AUTH_USERS: 'demo:demo-password:Demo User',
      GATEWAY_ADMIN_TOKEN: 'compose-admin-token-change-me',
      APP_KEYS: 'compose-app-key-1,compose-app-key-2',
      ADMIN_JWT_SECRET: 'replace-me',
    };
    const withDemo = loadCompose(undefined, demo).resolved;
    for (const name of ['legacy', 'modern']) {
      let problems: string[] = [];
      try {
        loadServiceConfig(environmentOf(withDemo.services[name]!), { port: 0 });
      } catch (error) {
        problems = (error as ConfigError).problems;
      }
      expect(
        problems.map((p) => p.split(':')[0]),
        name,
      ).toEqual(['JWT_SECRET', 'STRAPI_READ_TOKEN', 'STRAPI_WRITE_TOKEN', 'WEBHOOK_SECRET', 'AUTH_USERS']);
    }
    expect(() => readEnv(environmentOf(withDemo.services.gateway!))).toThrow(/GATEWAY_ADMIN_TOKEN/);
    const settings = createRequire(import.meta.url)(repoPath('apps/cms/src/lib/settings.js')) as {
      productionProblems(env: Record<string, string>): string[];
    };
    const cms = settings
      .productionProblems(environmentOf(withDemo.services.cms!))
      .map((p) => p.split(':')[0]);
    expect(cms).toEqual([
      'APP_KEYS',
      'ADMIN_JWT_SECRET',
      'STRAPI_READ_TOKEN',
      'STRAPI_WRITE_TOKEN',
      'WEBHOOK_SECRET',
    ]);
  });
});
