import { describe, expect, it } from 'vitest';

import { resolveToxic, resolveToxics, ToxicSet, ToxicShaper } from './toxics.js';
import type { Toxic } from './toxics.js';

describe('resolveToxic', () => {
  it('fills in the defaults', () => {
    expect(resolveToxic('t', { kind: 'stall' })).toEqual({ kind: 'stall', afterBytes: 0, ms: Number.POSITIVE_INFINITY, direction: 'downstream', times: Number.POSITIVE_INFINITY });
    expect(resolveToxic('t', { kind: 'slice', size: 3 })).toEqual({ kind: 'slice', size: 3, delayMs: 0, direction: 'downstream', times: Number.POSITIVE_INFINITY });
    expect(resolveToxic('t', { kind: 'reset-after', bytes: 0, direction: 'upstream', times: 2 })).toEqual({ kind: 'reset-after', bytes: 0, direction: 'upstream', times: 2 });
  });

  it.each([
    [{ kind: 'explode' }, /^toxics\[1\]\.kind must be one of 'reset-after', 'close-after', 'stall', 'slice'/],
    [{ kind: 'reset-after' }, /^toxics\[1\]\.bytes is required/],
    [{ kind: 'close-after', bytes: -1 }, /^toxics\[1\]\.bytes must be/],
    [{ kind: 'slice' }, /^toxics\[1\]\.size is required/],
    [{ kind: 'slice', size: 2, delayMs: -1 }, /^toxics\[1\]\.delayMs must be/],
    [{ kind: 'stall', ms: -3 }, /^toxics\[1\]\.ms must be/],
    [{ kind: 'stall', direction: 'sideways' }, /^toxics\[1\]\.direction must be/],
    [{ kind: 'stall', times: 0 }, /^toxics\[1\]\.times must be/],
    [null, /^toxics\[1\] must be a toxic object/],
  ])('rejects %j with a RangeError naming the field', (toxic, message) => {
    const list = [{ kind: 'stall' }, toxic] as unknown as Toxic[];
    expect(() => resolveToxics('toxics', list)).toThrow(RangeError);
    expect(() => resolveToxics('toxics', list)).toThrow(message);
  });
});

describe('ToxicSet', () => {
  it('applies each toxic to its next `times` connections, then drops it', () => {
    const set = new ToxicSet();
    const once = resolveToxic('t', { kind: 'stall', times: 1 });
    const always = resolveToxic('t', { kind: 'slice', size: 1 });
    set.add(once);
    const remove = set.add(always);
    expect(set.take()).toEqual([once, always]);
    expect(set.take()).toEqual([always]);
    remove();
    expect(set.take()).toEqual([]);
    expect(set.list()).toEqual([]);
  });
});

describe('ToxicShaper', () => {
  const shaper = (toxics: Toxic[]): ToxicShaper =>
    new ToxicShaper(
      toxics.map((t, i) => resolveToxic(`t${i}`, t)),
      'downstream',
      0,
    );

  it('without toxics lets everything through at once', () => {
    const s = shaper([]);
    expect(s.nextPieceLimit()).toBe(Number.POSITIVE_INFINITY);
    expect(s.onPiece(1e6, 0, 0)).toBeUndefined();
    expect(s.freeAt).toBe(Number.NEGATIVE_INFINITY);
    expect(s.sliced).toBe(false);
  });

  it('the lowest byte limit wins; a reset wins a tie', () => {
    const s = shaper([
      { kind: 'close-after', bytes: 100 },
      { kind: 'reset-after', bytes: 100 },
      { kind: 'close-after', bytes: 200 },
    ]);
    expect(s.nextPieceLimit()).toBe(100);
    expect(s.onPiece(60, 0, 0)).toBeUndefined();
    expect(s.nextPieceLimit()).toBe(40);
    expect(s.onPiece(40, 0, 0)).toBe('reset');
  });

  it('stops a piece at a stall boundary and holds the rest for ms from that moment', () => {
    const s = shaper([{ kind: 'stall', afterBytes: 10, ms: 50 }]);
    expect(s.nextPieceLimit()).toBe(10);
    s.onPiece(10, 7, 9);
    expect(s.freeAt).toBe(57);
    expect(s.nextPieceLimit()).toBe(Number.POSITIVE_INFINITY);
  });

  it('a stall at 0 bytes counts from when the connection opened', () => {
    expect(new ToxicShaper([resolveToxic('t', { kind: 'stall', ms: 30 })], 'downstream', 100).freeAt).toBe(130);
  });

  it('several slices act as one: smallest size, longest delay, measured from the wall clock', () => {
    const s = shaper([
      { kind: 'slice', size: 8, delayMs: 1 },
      { kind: 'slice', size: 4, delayMs: 5 },
    ]);
    expect(s.sliced).toBe(true);
    expect(s.nextPieceLimit()).toBe(4);
    s.onPiece(4, 10, 12);
    expect(s.freeAt).toBe(17);
  });

  it('ignores toxics of the other direction', () => {
    const s = shaper([{ kind: 'reset-after', bytes: 1, direction: 'upstream' }]);
    expect(s.nextPieceLimit()).toBe(Number.POSITIVE_INFINITY);
  });
});
