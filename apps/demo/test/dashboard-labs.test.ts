/**
 * The labs in the dashboard, in a real browser: Debian's headless Chromium (never a downloaded
 * one) driven by playwright-core picks a lab, runs it, and sees its summary row, its measured
 * lines and its explanation arrive; a refused run shows the server's error. Every request the
 * page makes stays on the dashboard's origin.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDashboard } from '../src/dashboard.js';
import type { Dashboard } from '../src/dashboard.js';
import { labsFor } from '../src/dashboard-labs.js';
import { LABS, LAB_NAMES } from '../src/labs/index.js';

/** The Chromium binary: `TETHER_CHROMIUM`, else where Debian's `chromium` package puts it (never a downloaded one). */
const CHROMIUM = process.env.TETHER_CHROMIUM ?? '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let dashboard: Dashboard;
let context: BrowserContext;
let profile: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: install Debian's chromium (CI's .ci/run does)`);
  dashboard = await startDashboard({ port: 0 });
  profile = mkdtempSync(path.join(os.tmpdir(), 'tether-demo-chromium-'));
  context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, args: FLAGS, headless: true });
}, 30_000);

afterAll(async () => {
  await context?.close();
  await dashboard?.close();
  if (profile !== undefined) rmSync(profile, { recursive: true, force: true });
});

describe('labsFor', () => {
  it('is every lab for all, one lab by name, and nothing otherwise', () => {
    expect(Object.keys(labsFor('all')!)).toEqual(LAB_NAMES);
    expect(labsFor('truncated')).toEqual({ truncated: LABS.truncated });
    expect(labsFor('nope')).toBeNull();
    expect(labsFor(undefined)).toBeNull();
    expect(labsFor('toString')).toBeNull();
  });
});

describe('dashboard labs API', () => {
  it('lists every lab with what it shows', async () => {
    const res = await fetch(`${dashboard.url}/api/labs`);
    const labs = (await res.json()) as { name: string; shows: string }[];
    expect(labs.map((l) => l.name)).toEqual(LAB_NAMES);
    for (const lab of labs) expect(lab.shows).toBe(LABS[lab.name]!.shows);
  });

  it('answers an unknown lab with 404 and the names it knows', async () => {
    const res = await fetch(`${dashboard.url}/api/labs/run?lab=nope`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: string }).error).toMatch(/^no lab "nope"; one of: all, nagle/);
  });
});

describe('dashboard labs page', () => {
  it('is linked from the dashboard, offers every lab and all, runs one and shows its table', async () => {
    const page = await context.newPage();
    const requested: string[] = [];
    const errors: string[] = [];
    page.on('request', (r) => requested.push(r.url()));
    page.on('pageerror', (err) => errors.push(err.message));
    await page.goto(dashboard.url);
    await page.click('a[href="/labs"]');
    await page.waitForFunction("document.querySelectorAll('#lab option').length > 1", undefined, { timeout: 10_000 });
    expect(await page.evaluate("[...document.querySelectorAll('#lab option')].map((o) => o.value)")).toEqual(['all', ...LAB_NAMES]);

    await page.selectOption('#lab', 'truncated');
    await page.click('#run-lab');
    await page.waitForFunction("document.getElementById('status').textContent.startsWith('done')", undefined, { timeout: 20_000 });
    expect(await page.textContent('#status')).toMatch(/^done: 1 of 1 observed their effect in \d+ ms$/);
    const row: unknown = await page.evaluate("[...document.querySelectorAll('#summary tbody tr')].map((tr) => [...tr.querySelectorAll('td')].slice(0, 5).map((td) => td.textContent))");
    expect(row).toEqual([
      [
        'truncated',
        LABS.truncated!.shows,
        'Content-Length truncated, chunked truncated, close-delimited complete',
        'Content-Length truncated, chunked truncated, close-delimited complete',
        'ok',
      ],
    ]);
    // The lab's own lines: three framings measured, two lines of explanation.
    expect(await page.locator('.lab[data-lab=truncated] table tr').count()).toBe(3);
    expect(await page.locator('.lab[data-lab=truncated] p').count()).toBe(2);
    expect(await page.isEnabled('#run-lab')).toBe(true);
    expect(requested.every((u) => u.startsWith(dashboard.url))).toBe(true);
    expect(errors).toEqual([]);
    await page.close();
  }, 40_000);

  it('shows the server\'s error when a lab is already running, and can run again after', async () => {
    // Another tab (here: a plain request) runs the slow-start lab (~2 s) and holds the labs.
    const other = await fetch(`${dashboard.url}/api/labs/run?lab=slow-start&quick=1`);
    expect(other.status).toBe(200);
    const page = await context.newPage();
    await page.goto(`${dashboard.url}/labs`);
    await page.waitForFunction("document.querySelectorAll('#lab option').length > 1", undefined, { timeout: 10_000 });
    await page.selectOption('#lab', 'truncated');
    await page.click('#run-lab');
    await page.waitForFunction("document.getElementById('status').textContent.startsWith('failed')", undefined, { timeout: 10_000 });
    expect(await page.textContent('#status')).toBe('failed: a lab is already running');
    expect(await page.isEnabled('#run-lab')).toBe(true);

    // Once the other run is over, the same button runs the lab.
    await other.text();
    await page.click('#run-lab');
    await page.waitForFunction("document.getElementById('status').textContent.startsWith('done')", undefined, { timeout: 20_000 });
    expect(await page.locator('#summary tbody tr').count()).toBe(1);
    await page.close();
  }, 40_000);

  it('runs all the labs in turn, a summary row and a details block for each', async () => {
    const page = await context.newPage();
    await page.goto(`${dashboard.url}/labs`);
    await page.waitForFunction("document.querySelectorAll('#lab option').length > 1", undefined, { timeout: 10_000 });
    await page.selectOption('#lab', 'all');
    await page.check('input[name=quick]');
    await page.click('#run-lab');
    // Quick: every lab with its smaller counts, about 20 s here (proxy-race is half of it).
    await page.waitForFunction("/^(done|failed)/.test(document.getElementById('status').textContent)", undefined, { timeout: 150_000, polling: 500 });
    expect(await page.textContent('#status')).toMatch(new RegExp(`^done: \\d+ of ${LAB_NAMES.length} observed their effect in \\d+ ms$`));
    expect(await page.evaluate("[...document.querySelectorAll('#summary tbody tr')].map((tr) => tr.dataset.lab)")).toEqual(LAB_NAMES);
    expect(await page.evaluate("[...document.querySelectorAll('.lab')].map((d) => d.dataset.lab)")).toEqual(LAB_NAMES);
    await page.close();
  }, 180_000);
});
