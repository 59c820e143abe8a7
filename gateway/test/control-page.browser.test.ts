/**
 * The migration control page in a real browser: Debian's Chromium driven by
 * playwright-core, against a gateway on ephemeral ports with the REAL legacy (Express) and
 * modern (Fastify) apps behind it (memory content, no Strapi, no Redis: overrides in memory +
 * written back to a temp copy of the route table).
 *
 * To give the shadow something to find, modern is configured with a tighter upstream timeout
 * than legacy for /aggregate (the quote upstream answers in 150 ms; modern gives up after
 * 60 ms and flags a partial result), a real difference between the two implementations.
 */
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createAuthService } from '@pilot/auth';
import { createMemoryContent } from '@pilot/content';
import { createApp as createLegacyApp, listen as listenLegacy } from '@pilot/legacy';
import { createApp as createModernApp } from '@pilot/modern';
import { createLogger, loadServiceConfig } from '@pilot/service-kit';
import { chromiumPath, startDelayedUpstream, type TestServer } from '@pilot/test-kit';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hitRatio, parseCacheCounts } from '../src/admin/page/cache.ts';
import type { GatewayHandle } from '../src/index.ts';
import { auth, call, copyDefaultTable, runConcurrent, startGateway, TOKEN, tempDir } from './helpers.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ARTIFACT = join(ROOT, 'artifacts', 'control-page.png');
const DOCS_SHOT = join(ROOT, 'docs', 'control-page.png');
const OPERATOR = 'ui-tester@example.com';

function serviceDeps(service: 'legacy' | 'modern', env: Record<string, string>) {
  const config = loadServiceConfig({ NODE_ENV: 'test', LOG_LEVEL: 'silent', ...env }, { port: 0 });
  return {
    config,
    logger: createLogger({ service, level: config.LOG_LEVEL }),
    content: createMemoryContent(),
    auth: createAuthService({
      users: config.AUTH_USERS,
      jwtSecret: config.JWT_SECRET,
      issuer: config.JWT_ISSUER,
    }),
  };
}

/** Counts which backend answered `n` POST /subscribers, one fresh sticky user each. */
async function splitOf(
  url: string,
  n: number,
  tag: string,
  dispatcher: Agent,
): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  await runConcurrent(n, 24, async (i) => {
    const res = await call(`${url}/subscribers`, {
      method: 'POST',
      dispatcher,
      headers: { 'content-type': 'application/json', 'x-user-id': `${tag}-${i}` },
      body: JSON.stringify({ email: `${tag}-${i}@example.com` }),
    });
    expect(res.status).toBe(201);
    const b = String(res.headers['x-backend']);
    counts[b] = (counts[b] ?? 0) + 1;
  });
  return counts;
}

/** Mixed background traffic through the gateway until stopped. */
function startTraffic(url: string, dispatcher: Agent) {
  let running = true;
  let sent = 0;
  const worker = async (w: number) => {
    for (let i = 0; running; i++) {
      const n = sent++;
      const path =
        i % 8 === 3 ? '/aggregate' : i % 2 === 0 ? '/articles?pageSize=5' : '/articles?page=2&pageSize=3';
      await call(`${url}${path}`, { dispatcher }).catch(() => {});
      if (i % 3 === 0) {
        await call(`${url}/subscribers`, {
          method: 'POST',
          dispatcher,
          headers: { 'content-type': 'application/json', 'x-user-id': `bg-${w}-${i}` },
          body: JSON.stringify({ email: `bg-${w}-${i}-${n}@example.com` }),
        }).catch(() => {});
      }
      // keep it a trickle: the numbers should move without starving the browser
      await new Promise((r) => setTimeout(r, 15));
    }
  };
  const done = Promise.all([0, 1, 2].map(worker));
  return {
    get sent() {
      return sent;
    },
    async stop() {
      running = false;
      await done;
    },
  };
}

/** vitest's expect.poll with room for a loaded 2-core machine (its default is 1 s). */
const poll = <T>(fn: () => Promise<T> | T, timeout = 10_000) => expect.poll(fn, { timeout, interval: 100 });

/** The id of the focused element (the test is typed without the DOM lib). */
const focusedId = (page: Page) => page.evaluate<string | undefined>('document.activeElement?.id');

const cellText = (page: Page, route: string, backend: string, cell: string) =>
  page.locator(`tr[data-route="${route}"][data-backend="${backend}"] [data-cell="${cell}"]`).textContent();

describe('control page in Chromium (real legacy + modern apps, memory content, no Redis)', () => {
  let gw: GatewayHandle;
  let file: string;
  let context: BrowserContext;
  let page: Page;
  let dispatcher: Agent;
  const closers: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    const weather = await startDelayedUpstream('weather');
    const quote = await startDelayedUpstream('quote', { delayMs: 150 });
    const upstreams: TestServer[] = [weather, quote];
    closers.push(() => Promise.all(upstreams.map((u) => u.close())));
    const upstreamEnv = {
      AGGREGATE_WEATHER_URL: `${weather.url}/weather`,
      AGGREGATE_QUOTE_URL: `${quote.url}/quote`,
    };

    const legacy = await listenLegacy(
      createLegacyApp(serviceDeps('legacy', { ...upstreamEnv, AGGREGATE_TIMEOUT_MS: '2000' })),
      { host: '127.0.0.1', port: 0 },
    );
    closers.push(() => legacy.close(2000));
    const modern = createModernApp({
      ...serviceDeps('modern', { ...upstreamEnv, AGGREGATE_TIMEOUT_MS: '60' }),
      tuning: { underPressure: false },
    });
    const modernUrl = await modern.listen({ host: '127.0.0.1', port: 0 });
    closers.push(() => modern.close());

    const t = await tempDir();
    closers.push(t.cleanup);
    file = await copyDefaultTable(t.dir);
    gw = await startGateway({
      routesFile: file,
      env: { LEGACY_URL: legacy.url, MODERN_URL: modernUrl },
      adminToken: TOKEN,
      writeBack: true,
      healthChecks: true,
      watch: false,
    });
    closers.push(() => gw.close());
    dispatcher = new Agent({ connections: 24, keepAliveTimeout: 10_000 });
    closers.push(() => dispatcher.close());

    const userDataDir = await mkdtemp(join(tmpdir(), 'pilot-chromium-'));
    closers.push(() => rm(userDataDir, { recursive: true, force: true }));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: chromiumPath(), // throws (suite fails, never skips) when Chromium is missing
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
      ],
      viewport: { width: 1440, height: 1000 },
      timeout: 20_000,
    });
    closers.push(() => context.close());
    page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(15_000);
  }, 45_000);

  afterAll(async () => {
    for (const close of closers.reverse()) await close().catch(() => {});
  }, 20_000);

  it('shows every route with live numbers, changes a split through the UI, and the traffic follows', async () => {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));

    const res = await page.goto(`${gw.adminUrl}/admin/ui`);
    expect(res?.status()).toBe(200);
    expect(res?.headers()['content-security-policy']).toContain("script-src 'self'");
    // nothing without the token: the page says so
    await poll(() => page.locator('#error').textContent()).toContain('401');

    await page.getByRole('textbox', { name: 'Admin token' }).fill(TOKEN);
    await page.getByRole('textbox', { name: /Your name/ }).fill(OPERATOR);
    await page.getByRole('button', { name: 'Use token' }).click();

    // every route of the active table, with its mode and weights, and the table version
    const table = gw.gateway.table;
    await poll(() => page.locator('#table-version').textContent()).toBe(table.version);
    for (const route of table.routes) {
      await poll(() => page.locator(`tbody[data-route-group="${route.id}"]`).count()).toBe(1);
    }
    expect(await cellText(page, 'subscribers', 'legacy', 'weight')).toBe('90%');
    expect(await cellText(page, 'subscribers', 'modern', 'weight')).toBe('10%');
    const modes = await page.locator('tbody[data-route-group="aggregate"] .badge').allTextContents();
    expect(modes).toEqual(['backend', 'shadow']);
    expect(await page.locator('tbody[data-route-group="articles"] .badge').allTextContents()).toEqual([
      'backend',
      'fallback',
    ]);
    await poll(() => page.locator('[data-backend-row="modern"] td').first().textContent()).toBe('up');

    // traffic through the gateway: the numbers and the sparklines move
    const traffic = startTraffic(gw.url, dispatcher);
    try {
      await poll(
        async () => Number(await cellText(page, 'articles', 'modern', 'rps')) || 0,
        15_000,
      ).toBeGreaterThan(0);
      await poll(
        async () => Number(await cellText(page, 'subscribers', 'legacy', 'rps')) || 0,
        15_000,
      ).toBeGreaterThan(0);
      await poll(() =>
        page
          .locator('tr[data-route="articles"][data-backend="modern"] [data-cell="rps-spark"] polyline')
          .count(),
      ).toBe(1);
      expect(await cellText(page, 'articles', 'modern', 'p99')).toMatch(/^\d/);
      await poll(
        () => page.locator('[data-cell="mismatch"][data-route="aggregate"]').textContent(),
        15_000,
      ).toMatch(/mismatch [1-9]\d*(\.\d)?%/);
    } finally {
      await traffic.stop();
    }
    expect(traffic.sent).toBeGreaterThan(0);

    // before: 90/10 by requests (sticky by user id: each fresh user lands by the hash of its id)
    const before = await splitOf(gw.url, 500, 'before', dispatcher);
    expect(Math.abs(((before.modern ?? 0) / 500) * 100 - 10)).toBeLessThanOrEqual(5);

    // change the split 90/10 → 50/50 with the keyboard only: type, Tab to Apply, Enter, confirm
    await page.locator('#w-subscribers-modern').focus();
    await page.keyboard.press('ControlOrMeta+A');
    await page.keyboard.type('50');
    expect(await page.locator('#w-subscribers-legacy').inputValue()).toBe('50');
    await page.keyboard.press('Tab');
    expect(await focusedId(page)).toBe('apply-subscribers');
    await page.keyboard.press('Enter');
    const dialog = page.locator('dialog#confirm');
    await poll(() => dialog.getAttribute('open')).toBe('');
    expect(await page.locator('#confirm-text').textContent()).toContain(
      'from legacy 90 / modern 10 to legacy 50 / modern 50',
    );
    expect(await focusedId(page)).toBe('confirm-cancel');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');

    await poll(() => cellText(page, 'subscribers', 'modern', 'weight')).toBe('50%');
    expect(await cellText(page, 'subscribers', 'legacy', 'weight')).toBe('50%');
    await poll(() => page.locator('#status').textContent()).toContain('done');
    expect(gw.gateway.route('subscribers')!.weights).toEqual({ legacy: 50, modern: 50 });
    await poll(() => page.locator('#table-version').textContent()).toBe(gw.gateway.table.version);
    // audited with who and when, and shown on the page
    const audit = page.locator('#audit li[data-action="set-weights"]').first();
    await poll(() => audit.textContent(), 10_000).toContain(OPERATOR);
    expect(await audit.textContent()).toContain('legacy 90 / modern 10 → legacy 50 / modern 50');
    expect(await audit.locator('time').getAttribute('datetime')).toMatch(/^\d{4}-\d\d-\d\dT/);
    // written back to the table's source: survives a restart
    expect(await readFile(file, 'utf8')).toMatch(/split:\s*\{?\s*legacy: 50,?\s*modern: 50/);

    // after: the traffic follows, by ~2,000 requests
    const after = await splitOf(gw.url, 2000, 'after', dispatcher);
    const modernShare = ((after.modern ?? 0) / 2000) * 100;
    expect(Math.abs(modernShare - 50)).toBeLessThanOrEqual(5);

    // a table reload (someone edits the file) shows up on the page: new label and version
    await writeFile(file, (await readFile(file, 'utf8')).replace('migration-step-3', 'migration-step-4'));
    const reloaded = await gw.gateway.reload('test');
    expect(reloaded.ok).toBe(true);
    await poll(() => page.locator('#table-label').textContent()).toBe('migration-step-4');
    expect(await page.locator('#table-version').textContent()).toBe(gw.gateway.table.version);
    await poll(() => page.locator('#status').textContent()).toContain('Route table changed');

    // shadow samples: side-by-side JSON with the differing paths highlighted
    await page.locator('tbody[data-route-group="aggregate"] a', { hasText: 'Mismatch samples' }).click();
    await poll(() => page.locator('#sample-view pre.json').count()).toBe(2);
    expect(await page.locator('#sample-view pre.json mark').count()).toBeGreaterThan(0);
    expect(await page.locator('#sample-view table.diffs tbody tr').count()).toBeGreaterThan(0);

    await mkdir(dirname(ARTIFACT), { recursive: true });
    await page.screenshot({ path: ARTIFACT, fullPage: true });
    // The README's picture is refreshed only on request, so a test run never edits a tracked file.
    if (process.env.PILOT_UPDATE_DOCS_SCREENSHOT === '1') await copyFile(ARTIFACT, DOCS_SHOT);
    expect(errors).toEqual([]);
  }, 60_000);

  it('refuses every action without the token: 401 from the admin API, and the page shows the error', async () => {
    const actions: Array<[string, string, string?]> = [
      ['PUT', '/admin/routes/subscribers/weights', JSON.stringify({ weights: { legacy: 0, modern: 100 } })],
      ['POST', '/admin/routes/subscribers/promote'],
      ['POST', '/admin/routes/subscribers/rollback'],
      ['POST', '/admin/routes/aggregate/shadow/pause'],
      ['POST', '/admin/routes/aggregate/shadow/resume'],
      ['DELETE', '/admin/routes/subscribers/override'],
      ['POST', '/admin/reload'],
      ['GET', '/admin/table'],
      ['GET', '/admin/stats'],
      ['GET', '/admin/audit'],
      ['GET', '/admin/ui/cache'],
    ];
    for (const [method, path, body] of actions) {
      for (const headers of [{}, { authorization: 'Bearer wrong-token' }] as Record<string, string>[]) {
        const res = await call(`${gw.adminUrl}${path}`, {
          method,
          body,
          headers: { ...headers, 'content-type': 'application/json' },
        });
        expect(res.status, `${method} ${path}`).toBe(401);
      }
    }
    const weightsBefore = { ...gw.gateway.route('subscribers')!.weights };
    const audited = async () =>
      (await call(`${gw.adminUrl}/admin/audit`, { headers: auth })).json<{ entries: unknown[] }>().entries
        .length;
    const auditBefore = await audited();

    // the page without a token: the action goes to the server, which refuses it
    await page.goto(`${gw.adminUrl}/admin/ui`);
    await poll(() => page.locator('#table-version').textContent()).toBe(gw.gateway.table.version);
    await page.getByRole('button', { name: 'Forget token' }).click();
    expect(await page.evaluate(() => sessionStorage.getItem('pilot.adminToken'))).toBeNull();
    await page.locator('#promote-subscribers').click();
    await page.locator('#confirm-ok').click();
    await poll(() => page.locator('#error').textContent()).toContain('refused: 401 UNAUTHORIZED');
    expect(await page.locator('#error').isVisible()).toBe(true);
    await page.locator('#shadow-aggregate').click();
    await page.locator('#confirm-ok').click();
    await poll(() => page.locator('#error').textContent()).toMatch(/shadowing of aggregate refused: 401/);

    // nothing changed, nothing audited
    expect(gw.gateway.route('subscribers')!.weights).toEqual(weightsBefore);
    expect(gw.gateway.route('aggregate')!.shadow!.paused).toBe(false);
    expect(await audited()).toBe(auditBefore);
  }, 30_000);

  it('reads the cache hit ratio from the services’ Prometheus text', () => {
    const counts = parseCacheCounts(
      [
        '# TYPE cache_events_total counter',
        'cache_events_total{client="read",kind="hit"} 30',
        'cache_events_total{client="read",kind="stale"} 5',
        'cache_events_total{client="read",kind="coalesced"} 5',
        'cache_events_total{client="read",kind="miss"} 10',
        'cache_events_total{client="write",kind="bypass"} 7',
        'cache_invalidations_total{client="read",source="local"} 2',
      ].join('\n'),
    );
    expect(counts).toEqual({ hit: 30, miss: 10, stale: 5, coalesced: 5, bypass: 7 });
    expect(hitRatio(counts!)).toEqual({ lookups: 50, hitRatio: 0.8 });
    expect(parseCacheCounts('http_requests_total 3\n')).toBeNull();
  });
});
