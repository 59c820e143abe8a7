/**
 * `pnpm --filter @pilot/modern bench`: modern (Fastify) and legacy (Express) on the real read
 * path — the Strapi-backed repository of @pilot/content and the real @pilot/strapi-client with
 * its L1/L2 cache, against a fake Strapi that counts its calls — next to bare node:http, bare
 * Fastify and bare Express hello worlds, all in one run:
 *
 *   GET /articles/:slug, L1 hit   the in-process cache answers (no Redis, no Strapi call)
 *   GET /articles/:slug, L2 hit   CACHE_L1_MAX_ITEMS=0: Redis answers every read (own key prefix)
 *   GET /articles/:slug, cold     CACHE_TTL_MS=1, no grace: every read misses L1 and L2 and asks Strapi
 *   POST /subscribers (422)       a rejected write (validation only)
 *   and modern's L1-hit read once more at LOG_LEVEL=warn (no request line): what logging costs
 *
 * Reads rotate over the fake's articles (BENCH_ARTICLES, default 600), so concurrent requests
 * rarely share a key (no coalescing flatters a tier). Before the measured rounds each tier is
 * verified: the read client's cache events over one second must all come from the tier named
 * (hit:l1, hit:l2, miss) and the fake Strapi's counter must agree (0 calls for hits, one per
 * request when cold); every measured run checks the counter again.
 *
 * Each participant is a process of its own; autocannon runs here. Where the machine allows
 * (`taskset`, ≥ 2 cores) the servers are pinned to one core and this process (the load generator)
 * and the fake Strapi to another. Figures per run: req/s, requests per CPU-second of the server
 * process (its own user + system time: steady when other work shares the machine), p50/p99, the
 * server's and the generator's CPU use in cores (a generator near 1.0 with a server below it
 * means the server was not saturated, and its per-request CPU is then not a saturated figure).
 * Rounds are interleaved, each starting one participant further on; ratios are taken within each
 * round and the median is reported.
 *
 * Env: BENCH_SECONDS (3), BENCH_ROUNDS (3), BENCH_CONNECTIONS (50), BENCH_WARMUP_SECONDS (12),
 * BENCH_LOG_LEVEL (info, as deployed), BENCH_PIN (1; 0 = do not pin), REDIS_URL
 * (redis://127.0.0.1:6379; unreachable → the L2 rows are skipped and said so).
 * Writes bench-results/pilot-modern.json at the repository root (see @pilot/test-kit/bench).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { deleteByPrefix } from '@pilot/test-kit';
import {
  type BenchResult,
  type BenchTarget,
  benchTarget,
  pinnableCores,
  pinToCores,
  writeBenchReport,
} from '@pilot/test-kit/bench';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import { SERVICE_NODE_FLAGS } from '../../../scripts/lib/node-flags.ts';

const seconds = Number(process.env.BENCH_SECONDS ?? 3);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
// Long enough for V8 to settle: under this load modern deoptimised 50, 16, 1, 0, 0… times per
// 5 s (--trace-deopt), and after a 1 s warm-up the measured rounds caught it still recompiling
// (modern L1 read 0.31-0.33x bare node:http; after 15 s, 0.60x in the same kind of run).
const warmupSeconds = Number(process.env.BENCH_WARMUP_SECONDS ?? 12);
const logLevel = process.env.BENCH_LOG_LEVEL ?? 'info';
const redisUrl = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const serverScript = fileURLToPath(new URL('./server.ts', import.meta.url));
const fakeScript = fileURLToPath(new URL('./fake-strapi.ts', import.meta.url));
const runId = randomBytes(4).toString('hex');

// ---- processes ------------------------------------------------------------------------------

const cores = process.env.BENCH_PIN === '0' ? [] : pinnableCores();
const pinned = cores.length >= 2 && pinToCores(process.pid, String(cores[1]));
const serverCore = String(cores[0]);
const generatorCore = String(cores[1]);
const children: ChildProcess[] = [];

/** Forks `script` and resolves with its first IPC message. */
function startChild<T>(script: string, args: string[], env: Record<string, string>, core?: string) {
  return new Promise<{ child: ChildProcess; hello: T }>((resolve, reject) => {
    const child = fork(script, args, {
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      env: { ...process.env, ...env },
      // every participant with the flags the services ship with
      execArgv: [...process.execArgv, ...SERVICE_NODE_FLAGS],
    });
    children.push(child);
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`${script} ${args.join(' ')} exited with ${code}`)));
    child.once('message', (hello) => {
      if (pinned && core !== undefined && child.pid) pinToCores(child.pid, core);
      resolve({ child, hello: hello as T });
    });
  });
}

/** Sends `message` and resolves with the first answer that has `field`. */
function ask<T>(child: ChildProcess, message: string, field: string): Promise<T> {
  return new Promise((resolve) => {
    const onMessage = (answer: unknown) => {
      if (!answer || typeof answer !== 'object' || !(field in answer)) return;
      child.off('message', onMessage);
      resolve((answer as Record<string, T>)[field] as T);
    };
    child.on('message', onMessage);
    child.send(message);
  });
}

const cpuSeconds = async (child: ChildProcess) => {
  const cpu = await ask<NodeJS.CpuUsage>(child, 'cpu', 'cpu');
  return (cpu.user + cpu.system) / 1e6;
};

interface FakeStrapiProcess {
  child: ChildProcess;
  url: string;
  slugs: string[];
  /** API calls since the previous call, and the fake's CPU seconds so far. */
  stats(): Promise<{ calls: number; cpu: number }>;
}

async function startFake(): Promise<FakeStrapiProcess> {
  const { child, hello } = await startChild<{ url: string; slugs: string[] }>(
    fakeScript,
    [],
    {},
    generatorCore,
  );
  return {
    child,
    url: hello.url,
    slugs: hello.slugs,
    async stats() {
      const s = await ask<{ calls: number; cpu: NodeJS.CpuUsage }>(child, 'stats', 'stats');
      return { calls: s.calls, cpu: (s.cpu.user + s.cpu.system) / 1e6 };
    },
  };
}

/** Waits (up to 10 s) until `count` entries exist under `prefix` in Redis. */
async function l2Written(prefix: string, count: number): Promise<void> {
  const client = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  try {
    const deadline = Date.now() + 10_000;
    for (;;) {
      let cursor = '0';
      let found = 0;
      do {
        const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}e:*`, 'COUNT', 1_000);
        cursor = next;
        found += keys.length;
      } while (cursor !== '0');
      if (found >= count) return;
      if (Date.now() > deadline) throw new Error(`only ${found} of ${count} L2 entries under ${prefix}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    client.disconnect();
  }
}

async function redisAvailable(url: string): Promise<boolean> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 1_000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.ping();
    return true;
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

// ---- what is measured -----------------------------------------------------------------------

type Tier = 'l1' | 'l2' | 'cold';

interface Participant {
  id: string;
  label: string;
  server: string;
  method: 'GET' | 'POST';
  /** Fixed path, or rotating over the fake's slugs. */
  path: string | 'rotate';
  body?: string;
  status: number;
  tier?: Tier;
}

interface Run {
  rps: number;
  requests: number;
  perCpuSecond: number;
  cpuUsPerRequest: number;
  p50: number;
  p99: number;
  /** Cores' worth of CPU the server used during the run (1.0 = one core busy all along). */
  serverCores: number;
  generatorCores: number;
  fakeStrapiCores: number;
  upstreamCalls: number;
}

const TIER_ENV: Record<Tier, Record<string, string>> = {
  l1: { CACHE_TTL_MS: '3600000' },
  l2: { CACHE_TTL_MS: '3600000', CACHE_L1_MAX_ITEMS: '0' },
  cold: { CACHE_TTL_MS: '1', CACHE_GRACE_MS: '0' },
};

/** What the cache events of a verification second must be made of. */
const TIER_EVENT: Record<Tier, string> = { l1: 'hit:l1', l2: 'hit:l2', cold: 'miss' };

async function main() {
  const withRedis = await redisAvailable(redisUrl);
  const fake = await startFake();
  const prefix = (app: string, tier: Tier) => `pilot-bench:${runId}:${app}:${tier}:`;
  const servers = new Map<string, { child: ChildProcess; url: string }>();
  const startServer = async (name: string, kind: string, env: Record<string, string> = {}) => {
    const { child, hello } = await startChild<{ url: string }>(
      serverScript,
      [kind],
      { LOG_LEVEL: logLevel, ...env },
      serverCore,
    );
    servers.set(name, { child, url: hello.url });
  };
  const tiers: Tier[] = withRedis ? ['l1', 'l2', 'cold'] : ['l1', 'cold'];
  const redisCleanup: string[] = [];
  try {
    for (const kind of ['bare-http', 'bare-fastify', 'bare-express']) await startServer(kind, kind);
    for (const app of ['modern', 'legacy'] as const) {
      for (const tier of tiers) {
        const p = prefix(app, tier);
        redisCleanup.push(p);
        await startServer(`${app}-${tier}`, app, {
          BENCH_STRAPI_URL: fake.url,
          BENCH_REDIS_PREFIX: p,
          ...(withRedis ? { REDIS_URL: redisUrl } : { REDIS_URL: '' }),
          ...TIER_ENV[tier],
        });
      }
    }
    // the same L1-hit read without its request line: what logging costs
    const quiet = logLevel !== 'warn';
    if (quiet) {
      const p = `${prefix('modern', 'l1')}warn:`;
      redisCleanup.push(p);
      await startServer('modern-l1-warn', 'modern', {
        LOG_LEVEL: 'warn',
        BENCH_STRAPI_URL: fake.url,
        BENCH_REDIS_PREFIX: p,
        ...(withRedis ? { REDIS_URL: redisUrl } : { REDIS_URL: '' }),
        ...TIER_ENV.l1,
      });
    }

    const read = (app: 'modern' | 'legacy', tier: Tier): Participant => ({
      id: `${app}-${tier}`,
      label: `${app} GET /articles/:slug, ${tier === 'cold' ? 'cold (→ Strapi)' : `${tier.toUpperCase()} hit`}`,
      server: `${app}-${tier}`,
      method: 'GET',
      path: 'rotate',
      status: 200,
      tier,
    });
    const rejected = (app: 'modern' | 'legacy'): Participant => ({
      id: `${app}-422`,
      label: `${app} POST /subscribers (422)`,
      server: `${app}-l1`,
      method: 'POST',
      path: '/subscribers',
      body: JSON.stringify({ email: 'not-an-email', name: 'Bench' }),
      status: 422,
    });
    const participants: Participant[] = [
      {
        id: 'bare-http',
        label: 'bare node:http hello world',
        server: 'bare-http',
        method: 'GET',
        path: '/',
        status: 200,
      },
      {
        id: 'bare-fastify',
        label: 'bare Fastify hello world',
        server: 'bare-fastify',
        method: 'GET',
        path: '/',
        status: 200,
      },
      {
        id: 'bare-express',
        label: 'bare Express hello world',
        server: 'bare-express',
        method: 'GET',
        path: '/',
        status: 200,
      },
      ...tiers.flatMap((tier) => [read('modern', tier), read('legacy', tier)]),
      ...(quiet
        ? [
            {
              ...read('modern', 'l1'),
              id: 'modern-l1-warn',
              label: 'modern GET /articles/:slug, L1 hit, LOG_LEVEL=warn',
              server: 'modern-l1-warn',
            },
          ]
        : []),
      rejected('modern'),
      rejected('legacy'),
    ];

    let rotation = 0;
    const nextSlugPath = () => `/articles/${fake.slugs[rotation++ % fake.slugs.length]}`;

    async function load(p: Participant, duration: number) {
      const server = servers.get(p.server)!;
      let unexpected = 0;
      const result = await new Promise<autocannon.Result>((resolve, reject) => {
        const instance = autocannon(
          {
            url: server.url,
            connections,
            duration,
            requests: [
              {
                method: p.method,
                path: p.path === 'rotate' ? nextSlugPath() : p.path,
                ...(p.body ? { body: p.body, headers: { 'content-type': 'application/json' } } : {}),
                ...(p.path === 'rotate'
                  ? { setupRequest: (request: autocannon.Request) => ({ ...request, path: nextSlugPath() }) }
                  : {}),
              },
            ],
          },
          (error, done) => (error ? reject(error) : resolve(done)),
        );
        instance.on('response', (_client, statusCode) => {
          if (statusCode !== p.status) unexpected += 1;
        });
      });
      // requests autocannon abandoned at the end are still being answered (and may still call
      // Strapi): let them finish so they count in this run, not the next
      await new Promise((resolve) => setTimeout(resolve, 150));
      const errors = result.errors + result.timeouts;
      if (unexpected > 0 || errors > 0)
        throw new Error(`${p.label}: ${unexpected} answers were not ${p.status}, ${errors} errors`);
      return result;
    }

    async function measure(p: Participant): Promise<Run> {
      const server = servers.get(p.server)!;
      const fakeBefore = (await fake.stats()).cpu; // also resets the call counter
      const cpuBefore = await cpuSeconds(server.child);
      const genBefore = process.cpuUsage();
      const started = performance.now();
      const r = await load(p, seconds);
      const wall = (performance.now() - started) / 1000 - 0.15;
      const gen = process.cpuUsage(genBefore);
      const cpu = (await cpuSeconds(server.child)) - cpuBefore;
      const after = await fake.stats();
      const run: Run = {
        rps: r.requests.total / wall,
        requests: r.requests.total,
        perCpuSecond: cpu > 0 ? r.requests.total / cpu : 0,
        cpuUsPerRequest: (cpu * 1e6) / Math.max(1, r.requests.total),
        p50: r.latency.p50,
        p99: r.latency.p99,
        serverCores: cpu / wall,
        generatorCores: (gen.user + gen.system) / 1e6 / wall,
        fakeStrapiCores: (after.cpu - fakeBefore) / wall,
        upstreamCalls: after.calls,
      };
      checkUpstream(p, run.upstreamCalls, run.requests);
      return run;
    }

    /** The fake's counter says which tier answered: hits never reach Strapi, a cold read always does. */
    function checkUpstream(p: Participant, calls: number, answered: number) {
      if (!p.tier) {
        if (calls !== 0) throw new Error(`${p.label}: ${calls} Strapi calls, expected none`);
        return;
      }
      const ok = p.tier === 'cold' ? calls >= answered && calls <= answered + connections : calls === 0;
      if (!ok) {
        throw new Error(
          `${p.label}: ${calls} Strapi calls for ${answered} answers (expected ${p.tier === 'cold' ? 'one per read' : 'none'})`,
        );
      }
    }

    console.log(
      `bench: ${rounds} interleaved rounds × ${seconds}s per participant, ${connections} connections, ` +
        `warm-up ${warmupSeconds}s, LOG_LEVEL=${logLevel}, node ${process.version}; ` +
        (pinned
          ? `servers pinned to core ${serverCore}, load generator and fake Strapi to core ${generatorCore}`
          : 'not pinned (no taskset or < 2 cores): servers, generator and fake Strapi share the cores') +
        (withRedis
          ? `; Redis ${redisUrl.replace(/\/\/[^@]*@/, '//***@')}`
          : `; no Redis at ${redisUrl}: L2 rows skipped`),
    );

    // every article read once through each cache tier (L2 writes land asynchronously: wait for
    // them), then warm-up (JIT, keep-alive sockets), then one verified second per tier
    for (const p of participants.filter((x) => x.tier && x.tier !== 'cold')) {
      const { url } = servers.get(p.server)!;
      for (let i = 0; i < fake.slugs.length; i += 20) {
        await Promise.all(
          fake.slugs.slice(i, i + 20).map(async (slug) => {
            const res = await fetch(`${url}/articles/${slug}`);
            await res.arrayBuffer();
            if (res.status !== 200) throw new Error(`${p.label}: priming ${slug} answered ${res.status}`);
          }),
        );
      }
      if (p.tier === 'l2')
        await l2Written(`${prefix(p.server.split('-')[0]!, 'l2')}strapi:`, fake.slugs.length);
    }
    for (const p of participants) await load(p, warmupSeconds);
    const verified: Record<string, Record<string, number>> = {};
    for (const p of participants.filter((x) => x.tier)) {
      const server = servers.get(p.server)!;
      await ask(server.child, 'count-on', 'counting');
      await fake.stats();
      const r = await load(p, 1);
      const counts = await ask<Record<string, number>>(server.child, 'count-off', 'counts');
      const calls = (await fake.stats()).calls;
      const want = TIER_EVENT[p.tier!];
      const total = Object.values(counts).reduce((a, b) => a + b, 0);
      // Two requests for one key while its L2 read is in flight: the second joins the first
      // (coalesced), as it should; a stray few of those still measure the tier, more would not.
      const joined = p.tier === 'l2' ? (counts.coalesced ?? 0) : 0;
      const other = total - (counts[want] ?? 0) - joined;
      // requests still in flight when autocannon stops are answered but not counted by it
      if (
        other > 0 ||
        joined > total / 100 ||
        total < r.requests.total ||
        total > r.requests.total + connections
      )
        throw new Error(`${p.label}: cache events ${JSON.stringify(counts)} for ${r.requests.total} answers`);
      checkUpstream(p, calls, r.requests.total);
      verified[p.id] = { ...counts, strapiCalls: calls, answered: r.requests.total };
    }
    console.log(
      `verified: ${Object.entries(verified)
        .map(
          ([id, c]) =>
            `${id} ${Object.entries(c)
              .map(([k, v]) => `${k}=${v}`)
              .join(' ')}`,
        )
        .join('; ')}`,
    );

    const runs = new Map<string, Run[]>();
    for (let round = 1; round <= rounds; round++) {
      // each round starts one participant further on: no row always follows the same neighbour
      // (with a fixed order the warn row always came last, after the 422 rows)
      const order = participants.map((_, i) => participants[(i + round - 1) % participants.length]!);
      for (const p of order) runs.set(p.id, [...(runs.get(p.id) ?? []), await measure(p)]);
      console.log(`round ${round}/${rounds} done`);
    }
    report(participants, runs, { verified, withRedis });
  } finally {
    for (const child of children) if (child.connected) child.disconnect();
    if (withRedis) {
      const client = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
      client.on('error', () => {});
      try {
        for (const p of redisCleanup) await deleteByPrefix(client, p);
      } finally {
        client.disconnect();
      }
    }
  }
}

// ---- report ---------------------------------------------------------------------------------

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

function report(
  participants: Participant[],
  runs: Map<string, Run[]>,
  context: { verified: Record<string, Record<string, number>>; withRedis: boolean },
) {
  const med = (id: string, pick: (r: Run) => number) => median(runs.get(id)!.map(pick));
  /** Median over rounds of a/b, each round's pair measured minutes apart at most. */
  const ratio = (a: string, b: string, pick: (r: Run) => number) => {
    const ra = runs.get(a);
    const rb = runs.get(b);
    if (!ra || !rb) return null;
    return median(ra.map((r, i) => pick(r) / pick(rb[i]!)));
  };
  const perCpu = (r: Run) => r.perCpuSecond;
  const rps = (r: Run) => r.rps;

  const header = [
    'participant',
    'req/s',
    'req/CPU-s',
    'CPU µs/req',
    '×node:http/CPU',
    'p50 ms',
    'p99 ms',
    'server cores',
    'generator cores',
    'Strapi calls/run',
  ];
  const rows = participants.map((p) => [
    p.label,
    fmt(med(p.id, rps)),
    fmt(med(p.id, perCpu)),
    med(p.id, (r) => r.cpuUsPerRequest).toFixed(1),
    `${ratio(p.id, 'bare-http', perCpu)!.toFixed(2)}×`,
    String(med(p.id, (r) => r.p50)),
    String(med(p.id, (r) => r.p99)),
    med(p.id, (r) => r.serverCores).toFixed(2),
    med(p.id, (r) => r.generatorCores).toFixed(2),
    fmt(med(p.id, (r) => r.upstreamCalls)),
  ]);
  const table = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
  console.log('');
  for (const row of table)
    console.log(
      `  ${row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ')}`,
    );

  // a per-request CPU figure is a saturated server's only when the server was the busy side
  const notSaturated: Record<string, string> = {};
  for (const p of participants) {
    const server = med(p.id, (r) => r.serverCores);
    const generator = med(p.id, (r) => r.generatorCores);
    if (server >= 0.9) continue;
    notSaturated[p.label] =
      generator >= 0.9
        ? `load generator bound (server ${server.toFixed(2)} cores, generator ${generator.toFixed(2)})`
        : `machine busy: other processes had the cores (server ${server.toFixed(2)}, generator ${generator.toFixed(2)})`;
  }
  const unsaturated = Object.entries(notSaturated);
  console.log(
    unsaturated.length > 0
      ? `\n  not saturated (server < 0.9 of a core), so their CPU per request is not a saturated server's:\n${unsaturated
          .map(([label, why]) => `    ${label}: ${why}`)
          .join('\n')}`
      : '\n  every server was saturated (≥ 0.9 of a core)',
  );

  const comparisons: Array<[string, string, string, string]> = [
    ['modern L1 hit / legacy L1 hit', 'modern-l1', 'legacy-l1', 'GET /articles/:slug, L1 hit'],
    ['modern L2 hit / legacy L2 hit', 'modern-l2', 'legacy-l2', 'GET /articles/:slug, L2 hit'],
    ['modern cold / legacy cold', 'modern-cold', 'legacy-cold', 'GET /articles/:slug, cold'],
    ['modern 422 / legacy 422', 'modern-422', 'legacy-422', 'POST /subscribers (422)'],
    ['modern L1 hit, warn / info', 'modern-l1-warn', 'modern-l1', 'the request line (info) left out'],
    ['bare Fastify / bare node:http', 'bare-fastify', 'bare-http', 'hello world'],
    ['bare Express / bare node:http', 'bare-express', 'bare-http', 'hello world'],
    ['modern L1 hit / bare Fastify', 'modern-l1', 'bare-fastify', 'read vs hello world'],
  ];
  console.log('\n  ratios (median of per-round ratios): per CPU-second | req/s');
  const ratioResults: BenchResult[] = [];
  for (const [name, a, b, what] of comparisons) {
    const c = ratio(a, b, perCpu);
    const w = ratio(a, b, rps);
    if (c === null || w === null) continue;
    console.log(`    ${name.padEnd(32)} ${c.toFixed(2)}× | ${w.toFixed(2)}×`);
    ratioResults.push({
      name: `ratio: ${name}`,
      of: what,
      perCpuSecond: round3(c),
      requestsPerSecond: round3(w),
    });
  }

  const modernVsBare = ratio('modern-l1', 'bare-http', perCpu);
  const modernVsLegacy = ratio('modern-l1', 'legacy-l1', perCpu);
  const targets: BenchTarget[] = [
    benchTarget(
      'modern L1-hit read vs bare node:http, per CPU-second',
      modernVsBare === null ? null : round3(modernVsBare),
      '>=',
      0.7,
      'modern GET /articles/:slug (L1 hit) requests per server CPU-second / bare node:http hello world requests per server CPU-second',
    ),
    benchTarget(
      'modern vs legacy, same read (L1 hit), per CPU-second',
      modernVsLegacy === null ? null : round3(modernVsLegacy),
      '>=',
      1.8,
      'modern GET /articles/:slug (L1 hit) requests per server CPU-second / legacy GET /articles/:slug (L1 hit) requests per server CPU-second',
    ),
  ];
  console.log('\n  targets:');
  for (const t of targets)
    console.log(
      `    ${t.name}: ${t.value?.toFixed(2) ?? 'n/a'}× (target ${t.comparison} ${t.target}×) ${t.met ? 'met' : 'NOT met'}`,
    );

  const results: BenchResult[] = [
    ...participants.map((p) => ({
      name: p.label,
      id: p.id,
      ...(p.tier ? { tier: p.tier } : {}),
      requestsPerSecond: Math.round(med(p.id, rps)),
      requestsPerCpuSecond: Math.round(med(p.id, perCpu)),
      cpuUsPerRequest: round3(med(p.id, (r) => r.cpuUsPerRequest)),
      p50Ms: med(p.id, (r) => r.p50),
      p99Ms: med(p.id, (r) => r.p99),
      serverCores: round3(med(p.id, (r) => r.serverCores)),
      generatorCores: round3(med(p.id, (r) => r.generatorCores)),
      fakeStrapiCores: round3(med(p.id, (r) => r.fakeStrapiCores)),
      strapiCallsPerRun: med(p.id, (r) => r.upstreamCalls),
      requestsPerRun: med(p.id, (r) => r.requests),
      ...(context.verified[p.id] ? { verifiedCacheEvents: context.verified[p.id] } : {}),
      rounds: runs
        .get(p.id)!
        .map((r) => ({ rps: Math.round(r.rps), perCpuSecond: Math.round(r.perCpuSecond), p99Ms: r.p99 })),
    })),
    ...ratioResults,
  ];
  const file = writeBenchReport({
    package: '@pilot/modern',
    setup: {
      seconds,
      rounds,
      connections,
      warmupSeconds,
      logLevel,
      pinned,
      ...(pinned ? { serverCore, generatorCore } : {}),
      redis: context.withRedis,
      articles: Number(process.env.BENCH_ARTICLES ?? 600),
      notSaturated,
    },
    results,
    targets,
  });
  console.log(`\n  results: ${file}`);
}

const round3 = (n: number) => Math.round(n * 1000) / 1000;

await main();
