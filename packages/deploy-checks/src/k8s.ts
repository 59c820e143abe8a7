import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { listFiles, REPO_ROOT } from './repo.ts';

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  [key: string]: unknown;
}

export interface LoadedManifest {
  file: string;
  object: K8sObject;
}

/** Every YAML document under `dir` (repo-relative), parsed strictly; parse errors throw with the file. */
export function loadManifests(dir = 'deploy/k8s', root = REPO_ROOT): LoadedManifest[] {
  const out: LoadedManifest[] = [];
  for (const file of listFiles(dir, (n) => n.endsWith('.yaml') || n.endsWith('.yml'), root)) {
    const docs = parseAllDocuments(readFileSync(join(root, file), 'utf8'));
    for (const doc of docs) {
      if (doc.errors.length) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join('; ')}`);
      const object = doc.toJS() as K8sObject | null;
      if (object) out.push({ file, object });
    }
  }
  return out;
}

export interface Container {
  name: string;
  image: string;
  ports?: Array<{ name?: string; containerPort: number }>;
  readinessProbe?: unknown;
  livenessProbe?: unknown;
  startupProbe?: unknown;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: { allowPrivilegeEscalation?: boolean; runAsNonRoot?: boolean };
  envFrom?: Array<{ configMapRef?: { name: string }; secretRef?: { name: string; optional?: boolean } }>;
  volumeMounts?: Array<{ name: string; mountPath: string; subPath?: string }>;
}

export interface PodTemplate {
  metadata?: { labels?: Record<string, string> };
  spec: {
    containers: Container[];
    securityContext?: { runAsNonRoot?: boolean };
    volumes?: Array<{ name: string; configMap?: { name: string }; emptyDir?: unknown }>;
  };
}

export function podTemplate(object: K8sObject): PodTemplate | null {
  if (!['Deployment', 'StatefulSet', 'DaemonSet'].includes(object.kind)) return null;
  return (object.spec as { template: PodTemplate }).template;
}

export interface WorkloadRules {
  /**
   * Secrets the operator creates before applying (never shipped, so applying never overwrites
   * them): a workload may read them, and they must not be defined in the manifests.
   */
  externalSecrets?: string[];
}

/**
 * Problems with the workloads: probes, resources, non-root, pinned images, Services that select
 * pods, configuration they read that nobody defines (or an external Secret that is defined, or
 * read as optional).
 */
export function workloadProblems(manifests: LoadedManifest[], rules: WorkloadRules = {}): string[] {
  const external = new Set(rules.externalSecrets ?? []);
  const problems: string[] = [];
  const objects = manifests.map((m) => m.object);
  const templates = objects.flatMap((o) => {
    const t = podTemplate(o);
    return t ? [{ object: o, template: t }] : [];
  });
  for (const { object, template } of templates) {
    const id = `${object.kind}/${object.metadata.name}`;
    const selector =
      (object.spec as { selector?: { matchLabels?: Record<string, string> } }).selector?.matchLabels ?? {};
    const labels = template.metadata?.labels ?? {};
    for (const [k, v] of Object.entries(selector)) {
      if (labels[k] !== v) problems.push(`${id}: selector ${k}=${v} does not match the pod labels`);
    }
    if (template.spec.securityContext?.runAsNonRoot !== true)
      problems.push(`${id}: pod securityContext.runAsNonRoot is not true`);
    for (const c of template.spec.containers) {
      if (!c.readinessProbe) problems.push(`${id}/${c.name}: no readinessProbe`);
      if (!c.livenessProbe) problems.push(`${id}/${c.name}: no livenessProbe`);
      if (!c.resources?.requests?.cpu || !c.resources?.requests?.memory)
        problems.push(`${id}/${c.name}: no cpu/memory requests`);
      if (!c.resources?.limits?.memory) problems.push(`${id}/${c.name}: no memory limit`);
      if (c.securityContext?.allowPrivilegeEscalation !== false)
        problems.push(`${id}/${c.name}: allowPrivilegeEscalation is not false`);
      // Our own images get their tag from kustomization `images:`; third-party ones are pinned here.
      if (!c.image.startsWith('migration-pilot/')) {
        const tag = c.image.includes(':') ? c.image.slice(c.image.lastIndexOf(':') + 1) : '';
        if (!tag || tag === 'latest') problems.push(`${id}/${c.name}: image ${c.image} is not pinned`);
      }
      for (const mount of c.volumeMounts ?? []) {
        const volume = template.spec.volumes?.find((v) => v.name === mount.name);
        if (volume?.configMap && mount.subPath) {
          problems.push(
            `${id}/${c.name}: ConfigMap ${volume.configMap.name} mounted with subPath never sees updates`,
          );
        }
      }
      for (const ref of c.envFrom ?? []) {
        const name = ref.configMapRef?.name ?? ref.secretRef?.name;
        const kind = ref.configMapRef ? 'ConfigMap' : 'Secret';
        if (kind === 'Secret' && name && external.has(name)) {
          if (ref.secretRef?.optional)
            problems.push(
              `${id}/${c.name}: external Secret ${name} is optional (a pod would start without it)`,
            );
          continue;
        }
        if (name && !objects.some((o) => o.kind === kind && o.metadata.name === name)) {
          problems.push(`${id}/${c.name}: envFrom ${kind} ${name} is not defined`);
        }
      }
    }
  }
  for (const service of objects.filter((o) => o.kind === 'Service')) {
    const spec = service.spec as {
      selector?: Record<string, string>;
      ports?: Array<{ targetPort?: string | number }>;
    };
    const match = templates.find(({ template }) =>
      Object.entries(spec.selector ?? {}).every(([k, v]) => template.metadata?.labels?.[k] === v),
    );
    if (!match) {
      problems.push(`Service/${service.metadata.name}: selects no workload`);
      continue;
    }
    const portNames = match.template.spec.containers.flatMap((c) => c.ports ?? []);
    for (const port of spec.ports ?? []) {
      const target = port.targetPort;
      const ok =
        typeof target === 'string'
          ? portNames.some((p) => p.name === target)
          : portNames.some((p) => p.containerPort === target);
      if (!ok)
        problems.push(
          `Service/${service.metadata.name}: targetPort ${String(target)} is not a container port`,
        );
    }
  }
  for (const name of external) {
    if (objects.some((o) => o.kind === 'Secret' && o.metadata.name === name))
      problems.push(
        `Secret/${name}: created by the operator first, but defined here (applying would overwrite it)`,
      );
  }
  return problems;
}
