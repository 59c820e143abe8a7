import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  type K8sObject,
  loadManifests,
  podTemplate,
  readRepoFile,
  repoPath,
  workloadProblems,
} from '../src/index.ts';

const base = loadManifests('deploy/k8s').filter(
  (m) =>
    !m.file.startsWith('deploy/k8s/addons/') &&
    !m.file.startsWith('deploy/k8s/overlays/') &&
    !m.file.endsWith('kustomization.yaml'),
);
/** Created by the operator before applying; the base only reads it. */
const EXTERNAL_SECRETS = ['pilot-secrets'];
const addons = loadManifests('deploy/k8s/addons');
const kustomization = parse(readRepoFile('deploy/k8s/kustomization.yaml')) as {
  kind: string;
  namespace: string;
  resources: string[];
  images: Array<{ name: string; newTag: string }>;
};
const objects = base.map((m) => m.object);
const find = (kind: string, name: string): K8sObject | undefined =>
  objects.find((o) => o.kind === kind && o.metadata.name === name);

describe('deploy/k8s manifests', () => {
  it('parse as YAML and declare apiVersion, kind and a name', () => {
    expect(base.length).toBeGreaterThan(10);
    for (const { file, object } of [...base, ...addons]) {
      expect(object.apiVersion, file).toBeTruthy();
      expect(object.kind, file).toBeTruthy();
      expect(object.metadata?.name, file).toBeTruthy();
    }
  });

  it('are exactly the kustomization resources', () => {
    expect(kustomization.kind).toBe('Kustomization');
    for (const resource of kustomization.resources)
      expect(existsSync(repoPath('deploy/k8s', resource)), resource).toBe(true);
    expect([...new Set(base.map((m) => m.file.replace('deploy/k8s/', '')))].sort()).toEqual(
      [...kustomization.resources].sort(),
    );
  });

  it('contain the expected kinds', () => {
    const kinds = (name: string) =>
      objects
        .filter((o) => o.metadata.name === name)
        .map((o) => o.kind)
        .sort();
    expect(kinds('migration-pilot')).toEqual(['Namespace']);
    for (const app of ['legacy', 'modern', 'gateway']) {
      expect(kinds(app), app).toEqual([
        'Deployment',
        'HorizontalPodAutoscaler',
        'PodDisruptionBudget',
        'Service',
      ]);
    }
    expect(kinds('redis')).toEqual(['Service', 'StatefulSet']);
    expect(kinds('cms')).toEqual(['Service', 'StatefulSet']);
    expect(find('Service', 'gateway-admin')).toBeDefined();
    expect(find('ConfigMap', 'pilot-env')).toBeDefined();
    expect(objects.filter((o) => o.kind === 'NetworkPolicy').length).toBeGreaterThan(0);
  });

  it('run every workload with probes, resources, non-root and pinned images; Services select them', () => {
    expect(workloadProblems(base, { externalSecrets: EXTERNAL_SECRETS })).toEqual([]);
  });

  it('puts the gateway behind a public Service and keeps the admin port internal', () => {
    const gateway = find('Service', 'gateway')!.spec as {
      type: string;
      ports: Array<{ port: number; targetPort: string }>;
    };
    expect(gateway.type).toBe('LoadBalancer');
    expect(gateway.ports).toEqual([{ name: 'http', port: 80, targetPort: 'http' }]);
    const admin = find('Service', 'gateway-admin')!.spec as { type: string };
    expect(admin.type).toBe('ClusterIP');
  });

  it('distributes the route table as a ConfigMap directory mount, overrides through Redis', () => {
    const template = podTemplate(find('Deployment', 'gateway')!)!;
    const container = template.spec.containers[0]!;
    const routesVolume = template.spec.volumes?.find((v) => v.configMap?.name === 'gateway-routes');
    expect(routesVolume).toBeDefined();
    const mount = container.volumeMounts?.find((m) => m.name === routesVolume!.name);
    expect(mount?.subPath).toBeUndefined();
    const env = (container as unknown as { env: Array<{ name: string; value: string }> }).env;
    const routesPath = env.find((e) => e.name === 'GATEWAY_ROUTES')!.value;
    expect(routesPath.startsWith(`${mount!.mountPath}/`)).toBe(true);
    expect(container.envFrom?.map((e) => e.configMapRef?.name ?? e.secretRef?.name)).toEqual([
      'pilot-env',
      'pilot-secrets',
    ]);
    expect(find('ConfigMap', 'pilot-env')?.data?.REDIS_URL).toMatch(/^redis:\/\//);
  });

  it('maps every image built here in the kustomization', () => {
    const images = objects.flatMap((o) => podTemplate(o)?.spec.containers.map((c) => c.image) ?? []);
    const ours = [...new Set(images.filter((i) => i.startsWith('migration-pilot/')))].sort();
    expect(ours).toEqual([
      'migration-pilot/cms',
      'migration-pilot/gateway',
      'migration-pilot/legacy',
      'migration-pilot/modern',
    ]);
    expect(kustomization.images.map((i) => i.name).sort()).toEqual(ours);
  });

  it('uses the conventional ports (docs/conventions.md)', () => {
    const port = (name: string) =>
      podTemplate(
        find(name === 'redis' || name === 'cms' ? 'StatefulSet' : 'Deployment', name)!,
      )!.spec.containers[0]!.ports!.map((p) => p.containerPort);
    expect(port('legacy')).toEqual([3001]);
    expect(port('modern')).toEqual([3002]);
    expect(port('gateway')).toEqual([8080, 8081]);
    expect(port('cms')).toEqual([1337]);
    expect(port('redis')).toEqual([6379]);
  });
});

describe('deploy/k8s secrets', () => {
  const example = (file: string) =>
    Object.fromEntries(
      readFileSync(repoPath(file), 'utf8')
        .split('\n')
        .flatMap((line) => {
          const match = /^([A-Z_]+)=(.*)$/.exec(line.trim());
          return match ? [[match[1] as string, match[2] as string]] : [];
        }),
    );

  it('the base ships no Secret and no generator, so applying it never overwrites the one the operator made', () => {
    expect(objects.filter((o) => o.kind === 'Secret')).toEqual([]);
    expect(readRepoFile('deploy/k8s/kustomization.yaml')).not.toMatch(/^secretGenerator:/m);
    expect(JSON.stringify(objects)).not.toMatch(/replace-me|change-me/);
    // a workload that still defined it would be reported too
    const withSecret = [
      ...base,
      { file: 'x.yaml', object: { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'pilot-secrets' } } },
    ];
    expect(workloadProblems(withSecret, { externalSecrets: EXTERNAL_SECRETS })).toEqual([
      'Secret/pilot-secrets: created by the operator first, but defined here (applying would overwrite it)',
    ]);
  });

  it('every workload reads pilot-secrets, and none starts without it', () => {
    for (const name of ['legacy', 'modern', 'gateway', 'cms']) {
      const workload = find('Deployment', name) ?? find('StatefulSet', name);
      const refs = podTemplate(workload!)!.spec.containers[0]!.envFrom ?? [];
      expect(refs.find((r) => r.secretRef)?.secretRef, name).toEqual({ name: 'pilot-secrets' });
    }
  });

  it('the example overlay generates pilot-secrets from a local, ignored secrets.env whose keys are listed without values', () => {
    const overlay = parse(readRepoFile('deploy/k8s/overlays/example-secrets/kustomization.yaml')) as {
      resources: string[];
      secretGenerator: Array<{ name: string; namespace: string; envs: string[] }>;
    };
    expect(overlay.resources).toEqual(['../..']);
    expect(overlay.secretGenerator).toEqual([
      { name: 'pilot-secrets', namespace: 'migration-pilot', envs: ['secrets.env'] },
    ]);
    expect(existsSync(repoPath('deploy/k8s/overlays/example-secrets/secrets.env'))).toBe(false);
    expect(readRepoFile('.gitignore')).toContain('deploy/k8s/overlays/*/secrets.env');
    const keys = example('deploy/k8s/overlays/example-secrets/secrets.env.example');
    for (const [key, value] of Object.entries(keys)) expect(value, key).toBe('');
    // every secret the compose stack requires for these services is a key of the Secret
    expect(Object.keys(keys).sort()).toEqual(
      Object.keys(example('.env.example'))
        .filter((k) => !['GRAFANA_ADMIN_PASSWORD', 'LOADTEST_USERNAME', 'LOADTEST_PASSWORD'].includes(k))
        .sort(),
    );
  });

  it('pilot-env believes the gateway pods for the client address (TRUST_PROXY)', () => {
    expect(find('ConfigMap', 'pilot-env')?.data?.TRUST_PROXY).toBe('loopback, uniquelocal');
  });
});

describe('deploy/k8s/addons', () => {
  it('runs k6 distributed with the k6-operator against the gateway Service', () => {
    const run = addons.find((m) => m.object.kind === 'TestRun')!.object;
    expect(run.apiVersion).toBe('k6.io/v1alpha1');
    // Not in the app's namespace (Pod Security `restricted` there; separate quota for load).
    expect(run.metadata.namespace).toBe('load-testing');
    const spec = run.spec as {
      parallelism: number;
      script: { configMap: { name: string; file: string } };
      runner: { image: string; env: Array<{ name: string; value: string }> };
    };
    expect(spec.parallelism).toBeGreaterThan(1);
    expect(spec.script.configMap.file).toBe('archive.tar');
    expect(spec.runner.image).toMatch(/^grafana\/k6:\d+\.\d+\.\d+$/);
    expect(spec.runner.env.find((e) => e.name === 'BASE_URL')?.value).toBe(
      'http://gateway.migration-pilot.svc.cluster.local',
    );
    expect(existsSync(repoPath('load-tests/k6/run.js'))).toBe(true);
  });

  it('scrapes the apps and the gateway admin port with PodMonitors', () => {
    const monitors = addons.filter((m) => m.object.kind === 'PodMonitor').map((m) => m.object);
    expect(monitors.map((m) => m.metadata.name).sort()).toEqual(['pilot-apps', 'pilot-gateway']);
    const gateway = monitors.find((m) => m.metadata.name === 'pilot-gateway')!.spec as {
      podMetricsEndpoints: Array<{ port: string; path: string }>;
    };
    expect(gateway.podMetricsEndpoints[0]).toMatchObject({ port: 'admin', path: '/metrics' });
  });
});
