/**
 * The rollout panel of the control page in a real browser (Debian's Chromium via
 * playwright-core): current step, time in step, each gate against its threshold, the timeline,
 * and the buttons, against a gateway with the REAL legacy and modern apps behind it.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromiumPath } from '@pilot/test-kit';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GatewayHandle } from '../../src/index.ts';
import { startGateway, TOKEN, tempDir } from '../helpers.ts';
import { type Apps, startApps, Traffic } from './apps.ts';

const poll = <T>(fn: () => Promise<T> | T, timeout = 15_000) => expect.poll(fn, { timeout, interval: 100 });

describe('control page: the rollout panel (real browser, real apps)', () => {
  let apps: Apps;
  let gw: GatewayHandle;
  let context: BrowserContext;
  let page: Page;
  let traffic: Traffic;
  const closers: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    apps = await startApps();
    closers.push(() => apps.close());
    const t = await tempDir();
    closers.push(t.cleanup);
    const file = `${t.dir}/routes.yaml`;
    await writeFile(
      file,
      `backends:
  legacy: { url: ${apps.legacy}, healthCheck: { enabled: false } }
  modern: { url: ${apps.modern}, healthCheck: { enabled: false } }
routes:
  - id: articles
    path: /articles*
    split: { legacy: 100, modern: 0 }
    sticky: [header:x-user-id]
    rollout:
      steps: [10, 50, 100]
      interval: 1s
      minRequests: 1000000   # the checks wait at each step: the test moves it with the buttons
      start: manual
      gates: { successRate: 99, p99: { factor: 10, maxMs: 3000 } }
  - id: default
    path: /*
    backend: legacy
`,
    );
    gw = await startGateway({
      routesFile: file,
      adminToken: TOKEN,
      writeBack: true,
      rollout: { publishMs: 100, settleMs: 700, loopMs: 100 },
    });
    closers.push(() => gw.close());
    traffic = new Traffic([gw.url], ['/articles']);
    traffic.start(4);
    closers.push(() => traffic.stop());
    const userDataDir = await mkdtemp(join(tmpdir(), 'pilot-chromium-'));
    closers.push(() => rm(userDataDir, { recursive: true, force: true }));
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: chromiumPath(),
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        '--disable-background-networking',
      ],
      viewport: { width: 1440, height: 1000 },
      timeout: 20_000,
    });
    closers.push(() => context.close());
    page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(15_000);
  }, 60_000);

  afterAll(async () => {
    for (const close of closers.reverse()) await close().catch(() => {});
  }, 30_000);

  it('shows the step, time in step, gates against thresholds and the timeline; start, pause, skip from the page', async () => {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${gw.adminUrl}/admin/ui`);
    await page.getByRole('textbox', { name: 'Admin token' }).fill(TOKEN);
    await page.getByRole('textbox', { name: /Your name/ }).fill('pat');
    await page.getByRole('button', { name: 'Use token' }).click();

    const card = page.locator('article[data-rollout="articles"]');
    await poll(() => card.count()).toBe(1);
    await poll(() => card.locator('.rollout-phase').textContent()).toBe('pending');
    expect(await card.getByRole('button', { name: 'Pause' }).isDisabled()).toBe(true);

    // start it (resume from pending): confirm, then the panel and the server agree
    await card.getByRole('button', { name: 'Resume' }).click();
    await poll(() => page.locator('#confirm-text').textContent()).toContain('pending rollout starts');
    await page.locator('#confirm-ok').click();
    await poll(() => card.locator('.rollout-phase').textContent()).toBe('running');
    expect(await card.locator('.rollout-current').textContent()).toBe('1/3: 10% on modern');
    expect(await card.locator('.rollout-step').allTextContents()).toEqual(['10%', '50%', '100%']);
    expect(await card.locator('.rollout-step[aria-current="step"]').textContent()).toBe('10%');
    // a check ran over live traffic: each gate's value against its threshold
    await poll(() => card.locator('tr[data-gate="traffic"] td').nth(1).textContent()).toBe(
      '>= 1000000 requests',
    );
    await poll(async () =>
      Number.parseInt((await card.locator('tr[data-gate="traffic"] td').first().textContent()) ?? '0', 10),
    ).toBeGreaterThan(0);
    expect(await card.locator('tr[data-gate="traffic"] td').nth(2).textContent()).toBe('no data yet');
    expect(await card.locator('tr[data-gate="successRate"] td').nth(1).textContent()).toBe('>= 99%');
    expect(await card.locator('tr[data-gate="p99"]').count()).toBe(1);
    await poll(() => card.locator('dd').nth(2).textContent()).toMatch(/^\d+ s$/);
    expect(await card.locator('.rollout-timeline li').first().textContent()).toMatch(/start 10% by pat/);

    await card.getByRole('button', { name: 'Pause' }).click();
    await page.locator('#confirm-ok').click();
    await poll(() => card.locator('.rollout-phase').textContent()).toBe('paused');
    expect(await card.locator('.rollout-reason').textContent()).toBe('paused by pat');
    expect((await gw.rollouts.handlers.get('articles')).phase).toBe('paused');
    // a cancelled command changes nothing
    await card.getByRole('button', { name: 'Abort' }).click();
    await page.locator('#confirm-cancel').click();
    await poll(() => page.locator('#status').textContent()).toContain('cancelled');
    expect((await gw.rollouts.handlers.get('articles')).phase).toBe('paused');

    await card.getByRole('button', { name: 'Skip step' }).click();
    await page.locator('#confirm-ok').click();
    await poll(() => card.locator('.rollout-current').textContent()).toBe('2/3: 50% on modern');
    expect(gw.gateway.route('articles')!.weights).toEqual({ legacy: 50, modern: 50 });
    await card.getByRole('button', { name: 'Skip step' }).click();
    await page.locator('#confirm-ok').click();
    await poll(() => card.locator('.rollout-phase').textContent()).toBe('promoted');
    expect(await card.locator('.rollout-step.done').allTextContents()).toEqual(['10%', '50%', '100%']);
    expect(await card.locator('.rollout-timeline li').first().textContent()).toMatch(/skip 100% by pat/);
    expect(gw.gateway.route('articles')!.weights).toEqual({ legacy: 0, modern: 100 });
    expect(errors).toEqual([]);
  }, 60_000); // a real browser and real apps: under a full CI run this took more than the default 20 s
});
