import { describe, expect, it } from 'vitest';

import { DEFAULT_HIGH_WATER_MARK, DEFAULT_MAX_WINDOW, resolveLinkOptions } from './options.js';
import type { LinkOptions } from './options.js';

describe('resolveLinkOptions', () => {
  it('fills in the defaults', () => {
    expect(resolveLinkOptions()).toEqual({
      rtt: 0,
      bandwidth: { upstream: Number.POSITIVE_INFINITY, downstream: Number.POSITIVE_INFINITY },
      initialWindow: 14_600,
      mss: 1460,
      maxWindow: DEFAULT_MAX_WINDOW,
      slowStartAfterIdle: false,
      rto: 200,
      highWaterMark: DEFAULT_HIGH_WATER_MARK,
      toxics: [],
    });
  });

  it('derives initialWindow from mss and rto from rtt', () => {
    const o = resolveLinkOptions({ rtt: 50, mss: 1000 });
    expect(o.initialWindow).toBe(10_000);
    expect(o.rto).toBe(250);
  });

  it('accepts one bandwidth for both directions or one per direction', () => {
    expect(resolveLinkOptions({ bandwidth: 1e6 }).bandwidth).toEqual({ upstream: 1e6, downstream: 1e6 });
    expect(resolveLinkOptions({ bandwidth: { upstream: 1e5, downstream: 1e6 } }).bandwidth).toEqual({ upstream: 1e5, downstream: 1e6 });
  });

  it('accepts Infinity where it means "no limit"', () => {
    const o = resolveLinkOptions({ bandwidth: Number.POSITIVE_INFINITY, initialWindow: Number.POSITIVE_INFINITY, maxWindow: Number.POSITIVE_INFINITY });
    expect([o.initialWindow, o.maxWindow]).toEqual([Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY]);
  });

  const bad: [LinkOptions, RegExp][] = [
    [{ rtt: -1 }, /^rtt must be/],
    [{ rtt: Number.NaN }, /^rtt must be/],
    [{ rtt: Number.POSITIVE_INFINITY }, /^rtt must be/],
    [{ bandwidth: 0 }, /^bandwidth must be/],
    [{ bandwidth: -5 }, /^bandwidth must be/],
    [{ bandwidth: { upstream: 1, downstream: Number.NaN } }, /^bandwidth\.downstream must be/],
    [{ initialWindow: 0 }, /^initialWindow must be/],
    [{ initialWindow: 1.5 }, /^initialWindow must be/],
    [{ mss: 0 }, /^mss must be/],
    [{ mss: Number.POSITIVE_INFINITY }, /^mss must be/],
    [{ maxWindow: -1 }, /^maxWindow must be/],
    [{ rto: -1 }, /^rto must be/],
    [{ highWaterMark: 0 }, /^highWaterMark must be/],
    [{ slowStartAfterIdle: 'yes' as unknown as boolean }, /^slowStartAfterIdle must be/],
    [{ toxics: [{ kind: 'slice', size: 0 }] }, /^toxics\[0\]\.size must be/],
  ];
  it.each(bad)('rejects %j with a RangeError naming the option', (options, message) => {
    expect(() => resolveLinkOptions(options)).toThrow(RangeError);
    expect(() => resolveLinkOptions(options)).toThrow(message);
  });
});
