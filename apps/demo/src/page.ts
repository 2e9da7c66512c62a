/**
 * Theory of operation: the "page" every strategy loads — one HTML document that references N
 * embedded objects. Sizes are deterministic (no randomness between runs or strategies): spaced
 * geometrically between the smallest and the largest, like a real page's many small and few
 * large resources, then put in a fixed shuffled order. With the defaults (30 objects, 2–60 KB)
 * the objects total about 526 KB.
 */

import { seededRandom } from '@tether/protocol/testing';

/** One embedded object. */
export interface PageObject {
  readonly path: string;
  readonly size: number;
}

/** A page: its document and the objects the document references, in document order. */
export interface Page {
  readonly htmlPath: string;
  readonly html: Uint8Array;
  readonly objects: readonly PageObject[];
}

/** How to build a page. Sizes in bytes (1 KB = 1000 bytes). */
export interface PageSpec {
  readonly objects: number;
  readonly minBytes: number;
  readonly maxBytes: number;
  /** Size of the HTML document. Default 8000. */
  readonly htmlBytes?: number;
}

/** The demo's default page: 30 objects of 2–60 KB, an 8 KB document. */
export const DEFAULT_PAGE: PageSpec = { objects: 30, minBytes: 2000, maxBytes: 60_000, htmlBytes: 8000 };

/** The object sizes of `spec`, in document order. */
export function objectSizes(spec: PageSpec): number[] {
  const n = spec.objects;
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`objects must be a non-negative integer, got ${n}`);
  if (!(spec.minBytes > 0 && spec.maxBytes >= spec.minBytes)) throw new RangeError(`sizes must satisfy 0 < min ≤ max, got ${spec.minBytes}–${spec.maxBytes}`);
  const sizes = Array.from({ length: n }, (_, i) => Math.round(n === 1 ? spec.minBytes : spec.minBytes * (spec.maxBytes / spec.minBytes) ** (i / (n - 1))));
  const random = seededRandom(0x7e7e);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [sizes[i], sizes[j]] = [sizes[j]!, sizes[i]!];
  }
  return sizes;
}

/** Build the page: an HTML document of `htmlBytes` that references every object. */
export function makePage(spec: PageSpec): Page {
  const sizes = objectSizes(spec);
  const objects = sizes.map((size, i) => ({ path: `/objects/${i}`, size }));
  const htmlBytes = spec.htmlBytes ?? 8000;
  let html = `<!doctype html>\n<title>tether demo page</title>\n${objects.map((o) => `<img src="${o.path}" alt="">`).join('\n')}\n<!-- `;
  if (html.length + 4 > htmlBytes) throw new RangeError(`htmlBytes ${htmlBytes} is too small for ${objects.length} references`);
  html = `${html}${'x'.repeat(htmlBytes - html.length - 4)} -->`;
  return { htmlPath: '/index.html', html: new TextEncoder().encode(html), objects };
}
