/**
 * The control page's shadow panel in a real browser (Debian's Chromium via playwright-core):
 * not-compared counts, the mismatch rate with its interval and sample count, learned noise with
 * the pairs that taught each path (rejected and pinned from the page), the top differing fields,
 * and the JSON Lines download. Fake backends: they must add noise and real differences on demand.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromiumPath } from '@pilot/test-kit';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayHandle } from '../src/index.ts';
import type { ShadowEvent } from '../src/shadow/mirror.ts';
import {
  type Backends,
  call,
  startBackends,
  startGateway,
  TOKEN,
  table,
  tempDir,
  writeTable,
} from './helpers.ts';

const poll = <T>(fn: () => Promise<T> | T, timeout = 15_000) => expect.poll(fn, { timeout, interval: 100 });

function answer(res: ServerResponse, url: string, shadow: boolean): void {
  const q = new URL(url, 'http://x').searchParams;
  res.writeHead(200, { 'content-type': 'application/json' });
  if (url.startsWith('/big')) {
    res.end(JSON.stringify({ blob: 'x'.repeat(4096) }));
    return;
  }
  const data: Record<string, unknown> = { title: 'Hello', count: 3 };
  if (shadow && q.get('case') === 'changed') data.count = 4;
  res.end(JSON.stringify({ data, meta: { requestId: randomUUID(), at: Date.now() + Math.random() } }));
}

describe('control page: shadow panel (fake backends with noise; real browser)', () => {
  let backends: Backends;
  let gw: GatewayHandle;
  let context: BrowserContext;
  let page: Page;
  const closers: Array<() => Promise<unknown>> = [];
  const events: ShadowEvent[] = [];

  beforeAll(async () => {
    backends = await startBackends({
      legacy: (req, res) => answer(res, req.url!, false),
      modern: (req, res) => answer(res, req.url!, true),
    });
    closers.push(() => backends.close());
    const t = await tempDir();
    closers.push(t.cleanup);
    const file = await writeTable(
      t.dir,
      table(`routes:
  - id: noisy
    path: /*
    backend: legacy
    shadow:
      backend: modern
      maxBodyBytes: 1024
      noise: { mode: learn, sampleRate: 1, warmupPairs: 2 }
`),
    );
    gw = await startGateway({ routesFile: file, env: backends.env, adminToken: TOKEN });
    closers.push(() => gw.close());
    gw.gateway.events.on('shadow', (e: ShadowEvent) => events.push(e));

    const userDataDir = await mkdtemp(join(tmpdir(), 'pilot-chromium-'));
    closers.push(() => rm(userDataDir, { recursive: true, force: true }));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: chromiumPath(),
      headless: true,
      acceptDownloads: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-component-update'],
      viewport: { width: 1440, height: 1200 },
      timeout: 20_000,
    });
    closers.push(() => context.close());
    page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(15_000);
  }, 45_000);

  afterAll(async () => {
    for (const close of closers.reverse()) await close().catch(() => {});
  }, 20_000);

  async function traffic(paths: string[]) {
    const before = events.length;
    for (const p of paths) expect((await call(`${gw.url}${p}`)).status).toBe(200);
    await poll(() => events.length - before).toBe(paths.length);
  }

  it('shows not-compared counts, the rate with its interval, learned noise and the top fields; acts on noise', async () => {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    // 1 warm-up pair not compared, then matches, a real difference, and one answer too large
    await traffic(['/a', '/b', '/c', '/d?case=changed', '/big']);

    await page.goto(`${gw.adminUrl}/admin/ui`);
    await page.getByRole('textbox', { name: 'Admin token' }).fill(TOKEN);
    await page.getByRole('button', { name: 'Use token' }).click();

    const card = page.locator('[data-shadow="noisy"]');
    await poll(() => card.count()).toBe(1);
    const cell = (name: string) => card.locator(`[data-shadow-cell="${name}"]`).textContent();
    await poll(() => cell('rate')).toMatch(/^33\.3% \(95% interval \d+\.\d%–\d+\.\d%; 1 of 3 compared\)$/);
    expect(await cell('not-compared')).toBe('2 (too large 1, learning noise 1)');
    expect(await cell('counts')).toBe('2 / 1');
    // the route row's summary says the same
    await poll(() => page.locator('[data-cell="mismatch"][data-route="noisy"]').textContent()).toMatch(
      /^mismatch 33\.3% \[\d+\.\d%–\d+\.\d%\] \(1\/3 compared, 2 not compared, 0 dropped\)$/,
    );

    // learned noise, with the pairs that taught each path
    const noiseRow = (path: string) => card.locator(`tr[data-noise-path="${path}"]`);
    await poll(() => noiseRow('meta.requestId').locator('td').first().textContent()).toBe('4');
    expect(await noiseRow('meta.at').locator('td').nth(1).textContent()).toBe('learned');
    expect(await card.locator('[data-shadow-cell="noise-summary"]').textContent()).toContain(
      '4 pairs compared',
    );

    // the top differing fields, with an example
    const field = card.locator('tr[data-path="data.count"]');
    expect(await field.locator('td').first().textContent()).toBe('1');
    expect(await field.locator('.example').textContent()).toContain('data.count: 3 → 4');

    // reject a learned path from the page: it is compared again (a mismatch per request now)
    await noiseRow('meta.at').getByRole('button', { name: 'reject meta.at on noisy' }).click();
    await page.locator('#confirm-ok').click();
    await poll(() => noiseRow('meta.at').locator('td').nth(1).textContent()).toBe('rejected');
    expect(gw.gateway.shadows.noise('noisy').isNoise('meta.at')).toBe(false);
    await traffic(['/e']);
    expect(events.at(-1)).toMatchObject({ result: 'mismatch' });
    // and pin it back
    await noiseRow('meta.at').getByRole('button', { name: 'pin meta.at on noisy' }).click();
    await page.locator('#confirm-ok').click();
    await poll(() => noiseRow('meta.at').locator('td').nth(1).textContent()).toBe('pinned');

    // the stored samples as JSON Lines
    const download = page.waitForEvent('download');
    await card.getByRole('button', { name: 'Download samples (JSON Lines)' }).click();
    const file = await (await download).path();
    const lines = (await readFile(file, 'utf8')).trimEnd().split('\n');
    expect(lines.map((l) => (JSON.parse(l) as { path: string }).path)).toEqual(['/e', '/d?case=changed']);

    const artifacts = join(import.meta.dirname, '..', '..', 'artifacts');
    await mkdir(artifacts, { recursive: true });
    await page.screenshot({ path: join(artifacts, 'control-page-shadow.png'), fullPage: true });
    expect(errors).toEqual([]);
  }, 90_000);
});
