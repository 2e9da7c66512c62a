/**
 * The pictures in README.md are the report itself: this test runs a small real comparison and
 * sweep through the emulated link, renders report.html, opens it in Debian's headless Chromium
 * and writes screenshots of its charts to docs/*.png — every test run redraws them, so they
 * never go stale. What it checks cannot depend on timing: each file is a PNG of the size of the
 * element it shows, and README.md shows every one of them.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderReport } from '../src/report.js';
import { DEFAULT_PARAMS, runComparison } from '../src/run.js';
import type { RunParams } from '../src/run.js';
import { runSweep } from '../src/sweep.js';

const CHROMIUM = process.env.TETHER_CHROMIUM ?? '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run'];
const demoDir = fileURLToPath(new URL('..', import.meta.url));
const docs = path.join(demoDir, 'docs');

/** A page small enough for the pictures to take seconds: 8 objects of 2–40 KB. */
const SMALL: RunParams = { ...DEFAULT_PARAMS, page: { ...DEFAULT_PARAMS.page, objects: 8, maxBytes: 40_000 } };

/** The pictures: file name, what to screenshot. */
const PICTURES = [
  { file: 'waterfall-serial.png', selector: 'figure[data-strategy="serial"]' },
  { file: 'waterfall-pooled.png', selector: 'figure[data-strategy="pooled"]' },
  { file: 'waterfall-multiplexed.png', selector: 'figure[data-strategy="multiplexed"]' },
  { file: 'sweep-rtt.png', selector: 'section.sweep .chart' },
] as const;

/** Width and height from a PNG's IHDR chunk, or null when the bytes are not a PNG. */
function pngSize(bytes: Uint8Array): { width: number; height: number } | null {
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (bytes.length < 24 || signature.some((b, i) => bytes[i] !== b)) return null;
  if (new TextDecoder().decode(bytes.subarray(12, 16)) !== 'IHDR') return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

let browser: Browser;
let scratch: string;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: install Debian's chromium (CI's .ci/run does)`);
  mkdirSync(path.join(demoDir, '.vitest'), { recursive: true });
  scratch = mkdtempSync(path.join(demoDir, '.vitest', 'pictures-'));
  browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
}, 30_000);

afterAll(async () => {
  await browser?.close();
  if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
});

describe('pngSize', () => {
  it('reads the size from a PNG header and refuses other bytes', () => {
    const header = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 3, 0x84, 0, 0, 1, 0xc2]);
    expect(pngSize(header)).toEqual({ width: 900, height: 450 });
    expect(pngSize(new TextEncoder().encode('<svg xmlns="http://www.w3.org/2000/svg"/>'))).toBeNull();
  });
});

describe("README.md's pictures", () => {
  it('are drawn from a real run of the report in Chromium, and README.md shows each', async () => {
    const run = await runComparison(SMALL);
    // Three runs per point, the median kept: one stall of a busy machine does not bend a line.
    const sweep = await runSweep({ ...SMALL, repeat: 3 }, 'rtt', [0, 25, 50, 100]);
    const file = path.join(scratch, 'report.html');
    writeFileSync(file, renderReport({ run, sweep }));
    const page = await browser.newPage({ viewport: { width: 1000, height: 800 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(pathToFileURL(file).href);
    mkdirSync(docs, { recursive: true });
    for (const { file: name, selector } of PICTURES) {
      const element = page.locator(selector).first();
      const box = await element.boundingBox();
      expect(box, selector).not.toBeNull();
      await element.screenshot({ path: path.join(docs, name) });
      // The file is a PNG of the element's size (device scale 1; fractional edges round either way).
      const size = pngSize(readFileSync(path.join(docs, name)));
      expect(size, name).not.toBeNull();
      expect(Math.abs(size!.width - box!.width), name).toBeLessThan(2);
      expect(Math.abs(size!.height - box!.height), name).toBeLessThan(2);
      expect(size!.width, name).toBeGreaterThan(500);
    }
    expect(errors).toEqual([]);
    await page.close();
    const readme = readFileSync(path.join(demoDir, 'README.md'), 'utf8');
    for (const { file: name } of PICTURES) expect(readme, name).toMatch(new RegExp(`!\\[[^\\]]+\\]\\(docs/${name.replace('.', '\\.')}\\)`));
  }, 180_000);
});
