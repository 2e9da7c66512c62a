/**
 * The report as a reader sees it, in Debian's headless Chromium (playwright-core): a real
 * (small) sweep rendered to report.html and opened from disk. The sweep chart has numeric axes
 * with titles and units, a log-scale switch, strategies told apart by colour and point shape,
 * and expandable sections named in the chart's units.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STRATEGY_NAMES } from '../src/model.js';
import { SWEEP_AXES, renderReport } from '../src/report.js';
import { DEFAULT_PARAMS } from '../src/run.js';
import { runSweep } from '../src/sweep.js';

const CHROMIUM = process.env.TETHER_CHROMIUM ?? '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run'];
const scratch = path.join(fileURLToPath(new URL('..', import.meta.url)), '.vitest');

let browser: Browser;
let dir: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: install Debian's chromium (CI's .ci/run does)`);
  mkdirSync(scratch, { recursive: true });
  dir = mkdtempSync(path.join(scratch, 'report-'));
  // playwright gives every launch a fresh, temporary profile.
  browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
}, 30_000);

afterAll(async () => {
  await browser?.close();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

/** Open `html` from disk; collect what the page logs as errors. */
async function open(html: string, name: string): Promise<{ page: Page; errors: string[] }> {
  const file = path.join(dir, name);
  writeFileSync(file, html);
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(pathToFileURL(file).href);
  return { page, errors };
}

describe('sweep axes', () => {
  it('show a point in the chart’s units', () => {
    expect(SWEEP_AXES.bandwidth.value(62_500)).toBe(0.5);
    expect(SWEEP_AXES.bandwidth.point(62_500)).toBe('bandwidth 0.5 Mbit/s');
    expect(SWEEP_AXES.rtt.point(50)).toBe('RTT 50 ms');
    expect(SWEEP_AXES.slow.point(200)).toBe('first object 200 ms late');
  });
});

describe('report.html in Chromium', () => {
  it('a sweep chart with numeric axes, titles, a log switch, every strategy distinguishable', async () => {
    const base = { ...DEFAULT_PARAMS, page: { ...DEFAULT_PARAMS.page, objects: 3, maxBytes: 10_000 } };
    const sweep = await runSweep(base, 'rtt', [0, 10, 40]);
    const { page, errors } = await open(renderReport({ run: null, sweep }), 'sweep.html');
    const chart = await page.evaluate<{ x: string; y: string; xTitle: string; yTitle: string; xs: number[]; styles: string[] }>(`(() => {
      const c = Chart.getChart('sweep');
      const measured = c.data.datasets.filter((d) => !d.label.endsWith('(model)'));
      return { x: c.scales.x.type, y: c.scales.y.type, xTitle: c.options.scales.x.title.text, yTitle: c.options.scales.y.title.text,
        xs: measured[0].data.map((p) => p.x), styles: measured.map((d) => d.borderColor + ' ' + d.pointStyle) };
    })()`);
    expect(chart).toMatchObject({ x: 'linear', y: 'linear', xTitle: 'round-trip time (ms)', yTitle: 'page load time (ms)', xs: [0, 10, 40] });
    // Each strategy its own colour and point shape.
    expect(chart.styles).toHaveLength(STRATEGY_NAMES.length);
    expect(new Set(chart.styles.map((s) => s.split(' ')[0])).size).toBe(STRATEGY_NAMES.length);
    expect(new Set(chart.styles.map((s) => s.split(' ')[1])).size).toBe(STRATEGY_NAMES.length);
    // The log switches.
    await page.check('#sweep-logy');
    await page.check('#sweep-logx');
    expect(await page.evaluate("[Chart.getChart('sweep').scales.x.type, Chart.getChart('sweep').scales.y.type]")).toEqual(['logarithmic', 'logarithmic']);
    // Sections named in the chart's units, and a sentence on what to look at.
    expect(await page.evaluate("[...document.querySelectorAll('details > summary')].map((s) => s.textContent)")).toEqual(['RTT 0 ms', 'RTT 10 ms', 'RTT 40 ms']);
    expect(await page.textContent('p.caption')).toMatch(/^Look at the slopes/);
    expect(errors).toEqual([]);
    await page.close();
  }, 90_000);
});
