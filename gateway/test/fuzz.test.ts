/**
 * Property-based fuzzing of every port the pilot opens: the gateway's public and admin ports,
 * and the legacy and modern apps, each a real process (a crash is an exit here, not a test
 * error), the apps reading from a fake Strapi (seeded articles, so success paths run too) and no
 * Redis. fast-check generates methods, paths (percent-encoding garbage, `__proto__`, dot
 * segments, 12 KB segments), header sets, bodies (JSON of every shape, bytes, oversized, deeply
 * nested) and raw bytes no client library would send.
 *
 * Each target gets PILOT_FUZZ_SECONDS (default 20) of requests, one after another. Asserted for
 * every request: every process still alive, a well-formed HTTP answer (or, for bytes that are
 * not HTTP, a closed connection) within 15 s, and every 4xx/5xx in the error envelope with its
 * own status. A failure prints the request and the seed; PILOT_FUZZ_SEED=<seed> replays it.
 */
import { type FakeStrapi, startFakeStrapi } from '@pilot/strapi-client/testing';
import fc from 'fast-check';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PATHS, caseArb, PUBLIC_PATHS } from './fuzz/arbitraries.ts';
import { describeCase, SKIP, sendHttp, sendRaw } from './fuzz/check.ts';
import { call, copyDefaultTable, TOKEN, tempDir } from './helpers.ts';
import { type Proc, startGatewayProcess, startLegacyProcess, startModernProcess } from './processes.ts';

const SECONDS = Number(process.env.PILOT_FUZZ_SECONDS ?? 20);
const SEED = process.env.PILOT_FUZZ_SEED === undefined ? undefined : Number(process.env.PILOT_FUZZ_SEED);

const article = (documentId: string, slug: string) => ({
  documentId,
  slug,
  title: `Title ${slug}`,
  summary: `Summary ${slug}`,
  body: `Body ${slug}`,
  publishedAt: '2025-01-01T00:00:00.000Z',
  updatedAt: '2025-01-01T00:00:00.000Z',
  author: null,
});

describe('fuzz: generated requests at both gateway ports and both apps (real processes, fake Strapi, no Redis)', () => {
  let strapi: FakeStrapi;
  let legacy: Proc;
  let modern: Proc;
  let gateway: Proc;
  let cleanup: () => Promise<void>;
  const agent = new Agent({ connections: 8, keepAliveTimeout: 10_000 });

  beforeAll(async () => {
    strapi = await startFakeStrapi({
      collections: {
        articles: [article('doc-a', 'alpha'), article('doc-b', 'beta'), article('doc-h', 'hello-world')],
        subscribers: [],
      },
      unique: { subscribers: ['email'] },
    });
    // info: both announce their port at that level
    const appEnv = { STRAPI_URL: strapi.url, LOG_LEVEL: 'info' };
    [legacy, modern] = await Promise.all([startLegacyProcess(appEnv), startModernProcess(appEnv)]);
    const t = await tempDir();
    cleanup = t.cleanup;
    gateway = await startGatewayProcess({
      GATEWAY_ROUTES: await copyDefaultTable(t.dir),
      GATEWAY_ADMIN_TOKEN: TOKEN,
      LEGACY_URL: legacy.url,
      MODERN_URL: modern.url,
    });
  }, 120_000);

  afterAll(async () => {
    await agent.close();
    await Promise.all([gateway?.stop(), legacy?.stop(), modern?.stop()]);
    await strapi?.close();
    await cleanup?.();
  });

  const all = () => [gateway, legacy, modern];
  const targets = [
    {
      name: 'gateway public port',
      url: () => gateway.url,
      paths: PUBLIC_PATHS,
      token: undefined,
      health: '/health',
    },
    {
      name: 'gateway admin port',
      url: () => gateway.adminUrl!,
      paths: ADMIN_PATHS,
      token: TOKEN,
      health: '/healthz',
    },
    { name: 'legacy', url: () => legacy.url, paths: PUBLIC_PATHS, token: undefined, health: '/health' },
    { name: 'modern', url: () => modern.url, paths: PUBLIC_PATHS, token: undefined, health: '/health' },
  ];

  for (const target of targets) {
    it(
      `${target.name}: ${SECONDS} s of generated requests — every process alive, every answer well-formed, every 4xx/5xx an envelope`,
      async () => {
        const base = target.url();
        let sent = 0;
        let skipped = 0;
        const details = await fc.check(
          fc.asyncProperty(caseArb(target.paths, target.token), async (c) => {
            const verdict = c.kind === 'http' ? await sendHttp(base, c, agent) : await sendRaw(base, c);
            if (verdict === SKIP) {
              skipped++;
              return true;
            }
            sent++;
            const dead = all().filter((p) => !p.alive());
            if (dead.length > 0) {
              throw new Error(
                `${dead.map((p) => `${p.name} ${p.exit()}:\n${p.tail(30)}`).join('\n')}\nafter: ${describeCase(c)}`,
              );
            }
            if (verdict !== null) throw new Error(`${verdict}\nrequest: ${describeCase(c)}`);
            return true;
          }),
          {
            numRuns: Number.MAX_SAFE_INTEGER,
            interruptAfterTimeLimit: SECONDS * 1000,
            markInterruptAsFailure: false,
            endOnFailure: true,
            seed: SEED,
          },
        );
        if (details.failed) {
          const [c] = details.counterexample ?? [];
          const cause =
            details.errorInstance instanceof Error
              ? details.errorInstance.message
              : String(details.errorInstance);
          throw new Error(
            `${target.name}: failed after ${details.numRuns} requests (replay: PILOT_FUZZ_SEED=${details.seed})\n${cause}${c ? `\n${describeCase(c)}` : ''}`,
          );
        }
        // a run that sent almost nothing proves nothing
        expect(sent, `sent ${sent}, skipped ${skipped}`).toBeGreaterThanOrEqual(Math.min(50, SECONDS * 2));
        for (const p of all()) expect(p.alive(), `${p.name} ${p.exit()}\n${p.tail()}`).toBe(true);
        expect((await call(`${base}${target.health}`)).status).toBe(200);
      },
      (SECONDS + 120) * 1000,
    );
  }
});
