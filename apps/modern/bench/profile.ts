/**
 * `node bench/profile.ts [modern|legacy|bare-http|bare-fastify|bare-express] [l1|l2|cold]` (default: modern l1): CPU profile of one
 * app's GET /articles/:slug on the real read path (the bench's server.ts and fake Strapi), under
 * autocannon load for BENCH_SECONDS (default 10). Prints the top self-time frames and the self
 * time per package; the .cpuprofile (open it in Chrome DevTools) is kept under
 * BENCH_PROFILE_DIR (default: a temporary folder).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

const app = process.argv[2] ?? 'modern';
const tier = process.argv[3] ?? 'l1';
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const logLevel = process.env.BENCH_LOG_LEVEL ?? 'info';
const dir = process.env.BENCH_PROFILE_DIR ?? mkdtempSync(join(tmpdir(), 'modern-profile-'));
const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

const TIER_ENV: Record<string, Record<string, string>> = {
  l1: { CACHE_TTL_MS: '3600000', REDIS_URL: '' },
  l2: {
    CACHE_TTL_MS: '3600000',
    CACHE_L1_MAX_ITEMS: '0',
    REDIS_URL: process.env.REDIS_URL || 'redis://127.0.0.1:6379',
  },
  cold: { CACHE_TTL_MS: '1', CACHE_GRACE_MS: '0', REDIS_URL: '' },
};

function start<T>(file: string, args: string[], env: Record<string, string>, execArgv: string[] = []) {
  const child = fork(here(file), args, {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    env: { ...process.env, ...env },
    execArgv: [...process.execArgv, ...execArgv],
  });
  return new Promise<{ child: ChildProcess; hello: T }>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${file} exited with ${code}`)));
    child.once('message', (hello) => resolve({ child, hello: hello as T }));
  });
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/**
 * What a sample's time was spent for: the leaf-most frame that names a feature decides (zod
 * under the response serializer is serialisation, under the request validator validation;
 * prom-client under the cache-event listener is metrics). First match wins, in this order.
 */
const FEATURES: Array<[string, RegExp]> = [
  ['start-up (module loading)', /node:internal\/modules\//],
  [
    'logging (pino line, redaction, write)',
    /\/(pino|sonic-boom|@pinojs\/redact|pino-http|pino-std-serializers)\/|lazy-logger\.ts|plugins\/app\/logging\.ts|request-log\.ts/,
  ],
  [
    'metrics (prom-client, http + cache counters)',
    /\/prom-client\/|service-kit\/src\/(metrics|strapi-metrics)\.ts|plugins\/app\/metrics\.ts|middleware\/metrics\.ts/,
  ],
  ['tracing hooks (tracing off)', /@opentelemetry|packages\/telemetry\/|strapi-client\/src\/tracing\.ts/],
  ['response serialisation', /fastify-type-provider-zod|lib\/send\.ts|modern\/src\/lib\/serializer/],
  ['request validation (zod)', /modern\/src\/lib\/validation\.ts|legacy\/src\/lib\/validate\.ts/],
  ['cache key', /strapi-client\/src\/query\.ts/],
  ['strapi-client (L1 lookup, events)', /strapi-client\/src\//],
  ['content repository (mapping)', /packages\/content\/src\//],
  ['request id', /request-id\.ts/],
  [
    'app hooks (headers, URL limit, load shedding, 422 hook)',
    /plugins\/app\/(headers|limits|validation)\.ts|under-pressure|middleware\/(limits|errors)\.ts/,
  ],
  ['route handler', /src\/routes\//],
  ['HTTP server guard (service-kit)', /service-kit\/src\/http-server\.ts/],
  ['zod (other)', /\/zod\//],
  ['socket write (kernel, loopback TCP)', /^writeUtf8String|^writev|^writeBuffer/],
  [
    'framework (fastify / express)',
    /\/(fastify|find-my-way|avvio|light-my-request|express|router|body-parser|path-to-regexp)\//,
  ],
  [
    'node http',
    /node:_http|node:internal\/http|node:http|^parserOn|node:internal\/streams|node:net|node:internal\/stream_base/,
  ],
];

/** Self time per frame, and per feature (µs per request), the idle time excluded. */
function summarise(profile: Profile, requests: number) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const label = (id: number) => {
    const { functionName, url } = byId.get(id)!.callFrame;
    return `${functionName} ${url}`;
  };
  const self = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const frames = new Map<string, number>();
  const features = new Map<string, number>();
  let busy = 0;
  for (const [id, us] of self) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    if (functionName === '(idle)') continue;
    busy += us;
    const where = url.replace(/^file:\/\//, '');
    const short = where.includes('node_modules/')
      ? where.slice(where.lastIndexOf('node_modules/') + 13)
      : where.replace(/^.*\/(apps|packages)\//, '$1/');
    const frame = `${functionName || '(anonymous)'} ${short ? `${short}:${lineNumber + 1}` : ''}`.trim();
    frames.set(frame, (frames.get(frame) ?? 0) + us);
    let feature = functionName === '(garbage collector)' ? 'garbage collector' : 'other';
    if (feature === 'other') {
      search: for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
        const text = label(cur);
        for (const [name, pattern] of FEATURES) {
          if (pattern.test(text)) {
            feature = name;
            break search;
          }
        }
      }
    }
    features.set(feature, (features.get(feature) ?? 0) + us);
  }
  const startup = features.get(FEATURES[0]![0]) ?? 0;
  const perRequest = (busy - startup) / requests;
  const pct = (us: number) => `${((us / busy) * 100).toFixed(1).padStart(5)}%`;
  const top = [...frames.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 25)
    .map(([name, us]) => `  ${pct(us)}  ${name}`)
    .join('\n');
  const byFeature = [...features.entries()]
    .filter(([name]) => name !== FEATURES[0]![0])
    .sort((a, b) => b[1] - a[1])
    .map(([name, us]) => `  ${(us / requests).toFixed(1).padStart(6)} µs  ${pct(us)}  ${name}`)
    .join('\n');
  return { busy, perRequest, top, byFeature };
}

const fake = await start<{ url: string; slugs: string[] }>('./fake-strapi.ts', [], {});
const server = await start<{ url: string }>(
  './server.ts',
  [app],
  {
    LOG_LEVEL: logLevel,
    BENCH_STRAPI_URL: fake.hello.url,
    BENCH_REDIS_PREFIX: `pilot-profile:${process.pid}:`,
    ...TIER_ENV[tier],
  },
  ['--cpu-prof', '--cpu-prof-dir', dir],
);
let i = 0;
const next = () =>
  app.startsWith('bare-') ? '/' : `/articles/${fake.hello.slugs[i++ % fake.hello.slugs.length]}`;
const run = (duration: number) =>
  autocannon({
    url: server.hello.url,
    connections,
    duration,
    requests: [
      { method: 'GET', path: next(), setupRequest: (r: autocannon.Request) => ({ ...r, path: next() }) },
    ],
  });
const warm = await run(2); // fills the cache and warms the JIT up (in the profile too: counted)
const result = await run(seconds);
const exited = new Promise((resolve) => server.child.once('exit', resolve));
server.child.disconnect();
fake.child.disconnect();
await exited;
const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
if (!file) throw new Error(`no .cpuprofile in ${dir}`);
const requests = warm.requests.total + result.requests.total;
const { busy, perRequest, top, byFeature } = summarise(
  JSON.parse(readFileSync(join(dir, file), 'utf8')) as Profile,
  requests,
);
console.log(
  `${app} ${tier}, LOG_LEVEL=${logLevel}: ${Math.round(result.requests.average)} req/s, ${result.non2xx} non-2xx, ` +
    `${requests} requests, ${(busy / 1e6).toFixed(1)} s busy (${perRequest.toFixed(1)} µs per request after start-up); ` +
    `profile ${join(dir, file)}\n\nby feature (busy time per request; the CPU profiler samples wall-clock time, so on a ` +
    `shared machine time the process was descheduled in a system call lands on that call):\n${byFeature}\n\ntop self time by frame:\n${top}`,
);
