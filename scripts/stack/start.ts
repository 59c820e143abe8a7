// The whole local stack in dependency order, each part waited for before the next starts,
// one combined log, every service restarted with backoff when it dies:
//
//   demo upstreams (3090) → cms (1337) → legacy (3001) + modern (3002) → gateway (8080, admin 8081)
//
// `node scripts/stack.ts` (`./pilot start`) is the command line; load tests and anything else
// that needs a running stack import startStack() from here.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { startDemoUpstreams } from '../demo-upstreams.ts';
import { SERVICE_NODE_FLAGS } from '../lib/node-flags.ts';
import { freePort, portAnswers } from '../lib/ports.ts';
import { formatDuration, heartbeat } from '../lib/progress.ts';
import { formatLine, prefixed } from './log-format.ts';
import { DEFAULT_RESTART_POLICY, type RestartPolicy, SupervisedService } from './supervisor.ts';

const root = join(import.meta.dirname, '..', '..');

export type PartName = 'upstreams' | 'cms' | 'legacy' | 'modern' | 'gateway';

export interface StackPorts {
  upstreams: number;
  cms: number;
  legacy: number;
  modern: number;
  gateway: number;
  gatewayAdmin: number;
}

export interface StackUrls {
  upstreams: string;
  cms: string;
  legacy: string;
  modern: string;
  gateway: string;
  gatewayAdmin: string;
}

export interface StackOptions {
  /** Parts already running elsewhere (e.g. `upstreams` when the caller serves its own). */
  skip?: PartName[];
  /** Extra environment for every service; wins over the stack's own settings except the ports. */
  env?: Record<string, string>;
  /** Where the combined log goes (one line per call); default stdout. */
  log?: (line: string) => void;
  /** Delay of the demo upstreams behind /aggregate (ms). */
  upstreamDelayMs?: number;
  /**
   * Ports; each missing one comes from the environment (UPSTREAMS_PORT, CMS_PORT, LEGACY_PORT,
   * MODERN_PORT, GATEWAY_PORT, GATEWAY_ADMIN_PORT), else the embedded default. `'free'`: free
   * ports picked by the OS, for a stack beside another one.
   */
  ports?: Partial<StackPorts> | 'free';
  /** Restart policy for services that die after they were ready; `false`: leave them down. */
  restart?: Partial<RestartPolicy> | false;
  /** Build the Strapi admin panel when it is missing (default true unless CMS_ADMIN=off). */
  buildAdmin?: boolean;
}

export interface RunningStack {
  urls: StackUrls;
  ports: StackPorts;
  /** Whether the cms serves its admin panel (at `${urls.cms}/admin`). */
  cmsAdmin: boolean;
  /** Stops every service (process groups, SIGTERM then SIGKILL after 10 s) and the upstreams. */
  stop(): Promise<void>;
}

export const DEFAULT_PORTS: StackPorts = {
  upstreams: 3090,
  cms: 1337,
  legacy: 3001,
  modern: 3002,
  gateway: 8080,
  gatewayAdmin: 8081,
};

const PORT_ENV: Record<keyof StackPorts, string> = {
  upstreams: 'UPSTREAMS_PORT',
  cms: 'CMS_PORT',
  legacy: 'LEGACY_PORT',
  modern: 'MODERN_PORT',
  gateway: 'GATEWAY_PORT',
  gatewayAdmin: 'GATEWAY_ADMIN_PORT',
};

/** Which part of the stack listens on which port. */
const PORT_OWNER: Record<keyof StackPorts, PartName> = {
  upstreams: 'upstreams',
  cms: 'cms',
  legacy: 'legacy',
  modern: 'modern',
  gateway: 'gateway',
  gatewayAdmin: 'gateway',
};

export async function resolvePorts(
  given: StackOptions['ports'],
  env: Record<string, string | undefined>,
): Promise<StackPorts> {
  const ports = { ...DEFAULT_PORTS };
  for (const key of Object.keys(ports) as Array<keyof StackPorts>) {
    if (given === 'free') ports[key] = await freePort();
    else if (given?.[key] !== undefined) ports[key] = given[key];
    else if (env[PORT_ENV[key]]) {
      const port = Number(env[PORT_ENV[key]]);
      if (!Number.isInteger(port) || port < 1 || port > 65_535)
        throw new Error(`${PORT_ENV[key]}=${env[PORT_ENV[key]]} is not a port number (1-65535)`);
      ports[key] = port;
    }
  }
  return ports;
}

function adminWanted(options: StackOptions): boolean {
  if (options.buildAdmin !== undefined) return options.buildAdmin;
  return (options.env?.CMS_ADMIN ?? process.env.CMS_ADMIN) !== 'off';
}

/** Builds the Strapi admin panel once per checkout; later starts serve it as it is. */
async function buildCmsAdmin(say: (name: string, text: string) => void): Promise<boolean> {
  say(
    'cms',
    'building the admin panel once for this checkout (a few minutes on 2 cores; CMS_ADMIN=off skips it)',
  );
  const progress = heartbeat((text) => say('cms', text), 'still building the admin panel');
  const build = spawn('pnpm', ['run', 'build'], {
    cwd: join(root, 'apps/cms'),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const stream of [build.stdout, build.stderr]) {
    createInterface({ input: stream }).on('line', (line) => {
      progress.touch();
      if (line.trim()) say('cms', `build: ${line}`);
    });
  }
  const code = await new Promise<number | null>((resolve) => {
    build.on('exit', resolve);
    build.on('error', () => resolve(null));
  });
  progress.stop();
  if (code === 0) {
    say('cms', `admin panel built in ${formatDuration(progress.elapsedMs())}`);
    return true;
  }
  say('cms', `admin panel build failed (exit ${code}); running the cms API-only`);
  return false;
}

export async function startStack(options: StackOptions = {}): Promise<RunningStack> {
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const color = !options.log && Boolean(process.stdout.isTTY);
  const say = (name: string, text: string) => log(prefixed(name, text, color));
  const skip = new Set(options.skip ?? []);
  const ports = await resolvePorts(options.ports, { ...process.env, ...options.env });
  const url = (port: number) => `http://127.0.0.1:${port}`;
  const urls: StackUrls = {
    upstreams: url(ports.upstreams),
    cms: url(ports.cms),
    legacy: url(ports.legacy),
    modern: url(ports.modern),
    gateway: url(ports.gateway),
    gatewayAdmin: url(ports.gatewayAdmin),
  };

  // A port already taken would make a service die at start with a less helpful message.
  for (const key of Object.keys(ports) as Array<keyof StackPorts>) {
    if (skip.has(PORT_OWNER[key])) continue;
    if (await portAnswers(ports[key]))
      throw new Error(
        `port ${ports[key]} (${key}) is already in use: stop what listens there, or start the stack ` +
          `on another port (${PORT_ENV[key]}=<port>)`,
      );
  }

  const policy = options.restart === false ? null : { ...DEFAULT_RESTART_POLICY, ...options.restart };
  const services: SupervisedService[] = [];
  const closers: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const service of [...services].reverse()) await service.stop();
    for (const close of closers.reverse()) await close();
  };

  let cmsAdmin = false;
  try {
    if (!skip.has('upstreams')) {
      const upstreams = await startDemoUpstreams({
        port: ports.upstreams,
        delayMs: options.upstreamDelayMs ?? 0,
      });
      closers.push(upstreams.close);
      say('upstreams', `weather + quote demo upstreams on ${urls.upstreams}`);
    }

    const shared: Record<string, string> = {
      STRAPI_URL: urls.cms,
      AGGREGATE_WEATHER_URL: `${urls.upstreams}/weather`,
      AGGREGATE_QUOTE_URL: `${urls.upstreams}/quote`,
      WEBHOOK_SECRET: process.env.WEBHOOK_SECRET ?? 'local-webhook-secret',
      // Local-only default so the control page works out of the box; set your own anywhere else.
      GATEWAY_ADMIN_TOKEN: process.env.GATEWAY_ADMIN_TOKEN ?? 'local-admin-token',
      LEGACY_URL: urls.legacy,
      MODERN_URL: urls.modern,
      // Strapi's content webhook goes straight to modern, which invalidates every cache.
      MODERN_WEBHOOK_URL: `${urls.modern}/webhooks/strapi`,
      ...options.env,
    };
    const parts = [
      {
        name: 'cms' as const,
        dir: 'apps/cms',
        command: process.execPath,
        args: ['scripts/start.js'],
        env: { CMS_PORT: String(ports.cms) },
        readyUrl: `${urls.cms}/_health`,
        // A first boot creates and seeds the database.
        readyTimeoutMs: 300_000,
      },
      {
        name: 'legacy' as const,
        dir: 'apps/legacy',
        command: process.execPath,
        args: [...SERVICE_NODE_FLAGS, 'src/server.ts'],
        env: { LEGACY_PORT: String(ports.legacy) },
        readyUrl: `${urls.legacy}/health`,
        readyTimeoutMs: 60_000,
      },
      {
        name: 'modern' as const,
        dir: 'apps/modern',
        command: process.execPath,
        args: [...SERVICE_NODE_FLAGS, 'src/server.ts'],
        env: { MODERN_PORT: String(ports.modern) },
        readyUrl: `${urls.modern}/health`,
        readyTimeoutMs: 60_000,
      },
      {
        name: 'gateway' as const,
        dir: 'gateway',
        command: process.execPath,
        args: [...SERVICE_NODE_FLAGS, 'src/server.ts'],
        env: { GATEWAY_PORT: String(ports.gateway), GATEWAY_ADMIN_PORT: String(ports.gatewayAdmin) },
        readyUrl: `${urls.gatewayAdmin}/healthz`,
        readyTimeoutMs: 60_000,
      },
    ];

    if (!skip.has('cms')) {
      const built = existsSync(join(root, 'apps/cms/build/index.html'));
      cmsAdmin = built;
      if (!built && adminWanted(options)) cmsAdmin = await buildCmsAdmin(say);
    }

    const events = { line: (name: string, text: string) => say(name, formatLine(text)), note: say };
    for (const part of parts) {
      if (skip.has(part.name)) continue;
      const cwd = join(root, part.dir);
      if (!existsSync(cwd)) {
        say(part.name, `not present in this checkout (${cwd}); skipped`);
        continue;
      }
      const service = new SupervisedService(
        {
          name: part.name,
          command: part.command,
          args: part.args,
          cwd,
          env: { ...process.env, ...shared, ...part.env },
          readyUrl: part.readyUrl,
          readyTimeoutMs: part.readyTimeoutMs,
        },
        policy,
        events,
      );
      services.push(service);
      say(part.name, `starting: node ${part.args.join(' ')}`);
      const ms = await service.start();
      say(part.name, `ready at ${part.readyUrl} in ${formatDuration(ms)}`);
    }
  } catch (error) {
    say('stack', `${(error as Error).message}; stopping what started`);
    await stop();
    throw error;
  }
  return { urls, ports, cmsAdmin, stop };
}
