/** `seededRandom` (@tether/protocol/testing): repeatable, in [0, 1), and the fuzzer's mulberry32. */
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../scripts/fuzz-core.mjs';
import { seededRandom } from '../src/testing.js';

describe('seededRandom', () => {
  it('gives the same numbers for a seed, different ones for another, all in [0, 1)', () => {
    const take = (seed: number): number[] => {
      const r = seededRandom(seed);
      return Array.from({ length: 1000 }, () => r());
    };
    const a = take(0x7e7e);
    expect(take(0x7e7e)).toEqual(a);
    expect(take(0x7e7f)).not.toEqual(a);
    expect(a.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(new Set(a).size).toBe(1000);
  });

  it('is the fuzzer’s mulberry32 scaled to [0, 1)', () => {
    const r = seededRandom(42);
    const u = mulberry32(42);
    for (let i = 0; i < 100; i++) expect(r() * 4294967296).toBe(u());
  });
});
