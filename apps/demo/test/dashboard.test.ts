/**
 * The dashboard in a real browser: Debian's headless Chromium (never a downloaded one) driven by
 * playwright-core loads the page, runs a small comparison through the emulated link, and sees the
 * progress, the waterfalls and the table arrive over server-sent events. Every request the page
 * makes stays on the dashboard's own origin (no CDN).
 */
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDashboard } from '../src/dashboard.js';
import type { Dashboard } from '../src/dashboard.js';
import { runComparison } from '../src/run.js';

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

/** A new tab on `url` that records what the page logs as an error (console errors and uncaught exceptions). */
async function openTab(url = dashboard.url): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  return { page, errors };
}

/** Wait until the status line shows an outcome (done, failed or an error) and return it. */
async function outcome(page: Page): Promise<{ text: string; isError: boolean; buttonEnabled: boolean }> {
  await page.waitForFunction("!document.getElementById('run').disabled", undefined, { timeout: 30_000 });
  return page.evaluate<{ text: string; isError: boolean; buttonEnabled: boolean }>(
    "({ text: document.getElementById('status').textContent, isError: document.getElementById('status').classList.contains('error'), buttonEnabled: !document.getElementById('run').disabled })",
  );
}

describe('dashboard', () => {
  it('runs a comparison and shows live progress, waterfalls and the table; nothing leaves its origin', async () => {
    const { page, errors } = await openTab();
    const requested: string[] = [];
    page.on('request', (r) => requested.push(r.url()));
    await page.reload();
    await page.fill('input[name=rtt]', '20');
    await page.fill('input[name=objects]', '4');
    await page.fill('input[name=maxKb]', '10');
    await page.fill('input[name=strategies]', 'persistent,pipelined');
    await page.click('#run');
    await page.waitForFunction("document.getElementById('status').textContent.startsWith('done')", undefined, { timeout: 20_000 });
    const waterfalls: unknown = await page.evaluate(
      "[...document.querySelectorAll('.waterfall')].map((e) => ({ strategy: e.getAttribute('data-strategy'), rows: e.querySelectorAll('.own-scale svg rect.chip').length, shared: e.querySelectorAll('.shared-scale svg rect.chip').length, visible: [...e.querySelectorAll('svg')].filter((s) => s.getBoundingClientRect().width > 0).length, caption: e.querySelector('figcaption').textContent.length > 0 }))",
    );
    // One waterfall per strategy, one row per request (the document and 4 objects), at its own
    // scale and at the shared one, one of the two shown, with a sentence under it.
    expect(waterfalls).toEqual([
      { strategy: 'persistent', rows: 5, shared: 5, visible: 1, caption: true },
      { strategy: 'pipelined', rows: 5, shared: 5, visible: 1, caption: true },
    ]);
    // Each waterfall says what its colours mean.
    expect(await page.evaluate("[...document.querySelectorAll('.own-scale svg')].every((s) => s.textContent.includes('connecting (handshake)') && s.textContent.includes('receiving'))")).toBe(true);
    // One click puts every waterfall on the shared scale.
    const widthOfLastRow = "(() => { const bars = [...document.querySelectorAll('.waterfall[data-strategy=pipelined] svg')].filter((s) => s.getBoundingClientRect().width > 0)[0].querySelectorAll('rect:not(.chip)'); return bars[bars.length - 1].getBoundingClientRect().right; })()";
    const before = await page.evaluate<number>(widthOfLastRow);
    await page.click('.scale-switch input');
    const after = await page.evaluate<number>(widthOfLastRow);
    // Pipelined is the faster of the two: on the shared scale it ends further left.
    expect(after).toBeLessThan(before);
    const rows: unknown = await page.evaluate("[...document.querySelectorAll('#table tbody tr')].map((tr) => tr.querySelector('td').textContent)");
    expect(rows).toEqual(['persistent (1 keep-alive)', 'pipelined (1 connection)']);
    expect(await page.textContent('#table .note')).toMatch(/^The model includes this machine's own work, measured on loopback/);
    // The bar chart was drawn by the locally served Chart.js.
    expect(await page.evaluate('typeof window.Chart')).toBe('function');
    expect(requested.every((u) => u.startsWith(dashboard.url))).toBe(true);
    // Nothing went wrong in the page, the icon included.
    expect(errors).toEqual([]);
    await page.close();
  }, 40_000);

  it('shows why the server refused bad parameters and lets the user run again', async () => {
    const { page, errors } = await openTab();
    await page.fill('input[name=rtt]', 'abc');
    await page.click('#run');
    expect(await outcome(page)).toEqual({ text: 'error: rtt must be between 0 and 500', isError: true, buttonEnabled: true });
    // The only error logged is the browser's own line about the 400 response.
    expect(errors.filter((e) => !e.includes('status of 400'))).toEqual([]);
    await page.close();
  }, 40_000);

  it('shows that another run is going on (409) instead of waiting for ever', async () => {
    // Another user's run holds the dashboard until this test lets it go on, however long the
    // browser takes to send its own: a run that merely lasts a while could end before the click.
    let letItRun: () => void = () => undefined;
    const held = new Promise<void>((resolve) => (letItRun = resolve));
    const busy = await startDashboard({
      port: 0,
      runComparison: async (params, onProgress) => {
        await held;
        return runComparison(params, onProgress);
      },
    });
    try {
      const other = await fetch(`${busy.url}/api/run?rtt=0&objects=1&strategies=serial`);
      expect(other.status).toBe(200);
      const { page, errors } = await openTab(busy.url);
      await page.click('#run');
      expect(await outcome(page)).toEqual({ text: 'error: a comparison is already running', isError: true, buttonEnabled: true });
      expect(errors.filter((e) => !e.includes('status of 409'))).toEqual([]);
      await page.close();
      // Released, the other run goes on to its result.
      letItRun();
      expect(await other.text()).toContain('event: result');
    } finally {
      letItRun();
      await busy.close();
    }
  }, 60_000);

  it('serves an icon', async () => {
    for (const path of ['/favicon.ico', '/favicon.svg']) {
      const res = await fetch(`${dashboard.url}${path}`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^image\/svg\+xml/);
      expect(await res.text()).toMatch(/^<svg /);
    }
  });

  it('refuses bad parameters with 400', async () => {
    const res = await fetch(`${dashboard.url}/api/run?rtt=-5`);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'rtt must be between 0 and 500' });
  });
});
