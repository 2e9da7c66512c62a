/**
 * The dashboard in a real browser: Debian's headless Chromium (never a downloaded one) driven by
 * playwright-core loads the page, runs a small comparison through the emulated link, and sees the
 * progress, the waterfalls and the table arrive over server-sent events. Every request the page
 * makes stays on the dashboard's own origin (no CDN).
 */
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDashboard } from '../src/dashboard.js';
import type { Dashboard } from '../src/dashboard.js';

/** The Chromium binary: `TETHER_CHROMIUM`, else where Debian's `chromium` package puts it (never a downloaded one). */
const CHROMIUM = process.env.TETHER_CHROMIUM ?? '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run'];

let dashboard: Dashboard;
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: install Debian's chromium (CI's .ci/run does)`);
  dashboard = await startDashboard({ port: 0 });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
}, 30_000);

afterAll(async () => {
  await browser?.close();
  await dashboard?.close();
});

describe('dashboard', () => {
  it('runs a comparison and shows live progress, waterfalls and the table; nothing leaves its origin', async () => {
    const page = await browser.newPage();
    const requested: string[] = [];
    page.on('request', (r) => requested.push(r.url()));
    await page.goto(dashboard.url);
    await page.fill('input[name=rtt]', '20');
    await page.fill('input[name=objects]', '4');
    await page.fill('input[name=maxKb]', '10');
    await page.fill('input[name=strategies]', 'persistent,pipelined');
    await page.click('#run');
    await page.waitForFunction("document.getElementById('status').textContent.startsWith('done')", undefined, { timeout: 20_000 });
    const waterfalls: unknown = await page.evaluate("[...document.querySelectorAll('.waterfall')].map((e) => ({ strategy: e.getAttribute('data-strategy'), rows: e.querySelectorAll('svg text[text-anchor=end]').length }))");
    // One waterfall per strategy, one row per request (the document and 4 objects).
    expect(waterfalls).toEqual([{ strategy: 'persistent', rows: 5 }, { strategy: 'pipelined', rows: 5 }]);
    const rows: unknown = await page.evaluate("[...document.querySelectorAll('#table tbody tr')].map((tr) => tr.querySelector('td').textContent)");
    expect(rows).toEqual(['persistent (1 keep-alive)', 'pipelined (1 connection)']);
    // The bar chart was drawn by the locally served Chart.js.
    expect(await page.evaluate('typeof window.Chart')).toBe('function');
    expect(requested.every((u) => u.startsWith(dashboard.url))).toBe(true);
    await page.close();
  }, 40_000);

  it('refuses bad parameters with 400', async () => {
    const res = await fetch(`${dashboard.url}/api/run?rtt=-5`);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'rtt must be between 0 and 500' });
  });
});
