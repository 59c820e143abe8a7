/**
 * The HTML report in a real browser (Debian's Chromium driven by playwright-core): rendered
 * from a real `pnpm compare --capacity` run on a 2-core machine (fixtures/compare-capacity.json,
 * histograms dropped), it must draw every chart, ask the network for nothing, and log no error.
 * The screenshot goes to artifacts/load-report.png; PILOT_UPDATE_DOCS_SCREENSHOT=1 also copies
 * it to docs/load-report.png for the README.
 */
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromiumPath } from '@pilot/test-kit';
import { type BrowserContext, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderHtml } from '../src/html.ts';
import type { CompareReport } from '../src/model.ts';
import { renderReport } from '../src/report-cli.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const ARTIFACT = join(ROOT, 'artifacts', 'load-report.png');
const DOCS_SHOT = join(ROOT, 'docs', 'load-report.png');
const FIXTURE = join(import.meta.dirname, 'fixtures', 'compare-capacity.json');
const K6_FIXTURE = join(import.meta.dirname, 'fixtures', 'modern.k6-summary.json');

let context: BrowserContext;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pilot-report-browser-'));
  context = await chromium.launchPersistentContext(join(dir, 'profile'), {
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
  });
}, 60_000);

afterAll(async () => {
  await context?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Opens a report file; returns the page, what it requested, and what it logged as errors. */
async function open(file: string) {
  const page = await context.newPage();
  const requests: string[] = [];
  const errors: string[] = [];
  page.on('request', (request) => requests.push(request.url()));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(pathToFileURL(file).href);
  return { page, requests, errors };
}

describe('report.html in Chromium', () => {
  it('a capacity run: table, capacity curves with knees, timelines, cost; nothing fetched', async () => {
    const report = JSON.parse(await readFile(FIXTURE, 'utf8')) as CompareReport;
    const file = join(dir, 'report.html');
    await writeFile(file, renderHtml(report));
    const { page, requests, errors } = await open(file);

    expect(requests).toEqual([pathToFileURL(file).href]);
    expect(errors).toEqual([]);
    const capacity = page
      .locator('h2', { hasText: 'Capacity at SLO' })
      .locator('xpath=following-sibling::table[1]');
    for (const target of ['legacy', 'modern', 'gateway']) {
      await expect.poll(() => capacity.locator('tr', { hasText: target }).count()).toBeGreaterThanOrEqual(4);
    }
    // every chart is drawn with a size, every capacity section has its curve and SLO line
    const charts = page.locator('svg');
    const count = await charts.count();
    expect(count).toBeGreaterThanOrEqual(report.runs.length);
    for (let i = 0; i < count; i++) {
      const box = await charts.nth(i).boundingBox();
      expect(box!.width, `chart ${i}`).toBeGreaterThan(300);
      expect(box!.height, `chart ${i}`).toBeGreaterThan(100);
    }
    // one curve per capacity scenario at the top, and again in each scenario's section
    expect(
      await page.locator('#capacity-curves svg', { hasText: 'latency against offered load' }).count(),
    ).toBe(4);
    expect(
      await page.locator('svg', { hasText: 'capacity curve: latency against offered load' }).count(),
    ).toBe(4);
    expect(await page.locator('svg text', { hasText: /^SLO p99/ }).count()).toBe(8);
    expect(await page.locator('svg', { hasText: 'offered vs achieved' }).count()).toBe(4);
    expect(await page.locator('svg', { hasText: 'CPU-s per 1,000 requests' }).count()).toBe(4);
    expect(await page.locator('circle.knee').count()).toBeGreaterThan(0);

    // the README's picture: the capacity table and the capacity curves
    const end = await page.locator('#capacity-curves').boundingBox();
    await mkdir(dirname(ARTIFACT), { recursive: true });
    await page.screenshot({
      path: ARTIFACT,
      clip: { x: 0, y: 0, width: 1440, height: Math.ceil(end!.y + end!.height + 16) },
      fullPage: true,
    });
    if (process.env.PILOT_UPDATE_DOCS_SCREENSHOT === '1') await copyFile(ARTIFACT, DOCS_SHOT);
    await page.close();
  }, 60_000);

  it('a k6 summary rendered by pnpm report: the same report, the held stream marked not verifiable', async () => {
    const { written } = renderReport([K6_FIXTURE], { target: 'modern', out: join(dir, 'k6') });
    const { page, requests, errors } = await open(written.html);
    expect(requests).toEqual([pathToFileURL(written.html).href]);
    expect(errors).toEqual([]);
    await expect
      .poll(() => page.getByText('not verifiable on k6', { exact: false }).count())
      .toBeGreaterThan(0);
    expect(
      await page.locator('svg', { hasText: 'capacity curve: latency against offered load' }).count(),
    ).toBe(1);
    expect(await page.locator('td', { hasText: '1,311/s' }).count()).toBeGreaterThan(0);
    await page.close();
  }, 60_000);
});
