import { describe, expect, it } from 'vitest';

import { ByteQueue } from './byte-queue.js';
import { Deque } from './deque.js';

describe('ByteQueue', () => {
  it('takes bytes across chunk boundaries, in order, without copying', () => {
    const q = new ByteQueue();
    const a = Uint8Array.of(1, 2, 3);
    q.push(a);
    q.push(new Uint8Array(0));
    q.push(Uint8Array.of(4, 5));
    expect(q.length).toBe(5);
    const first = q.take(2);
    expect(first.map((c) => [...c])).toEqual([[1, 2]]);
    expect(first[0]?.buffer).toBe(a.buffer);
    expect(q.take(3).map((c) => [...c])).toEqual([[3], [4, 5]]);
    expect(q.length).toBe(0);
    expect(q.take(0)).toEqual([]);
  });

  it('refuses to take more than it holds', () => {
    const q = new ByteQueue();
    q.push(Uint8Array.of(1));
    expect(() => q.take(2)).toThrow(RangeError);
  });
});

describe('Deque', () => {
  it('is first in, first out, across compactions', () => {
    const d = new Deque<number>();
    for (let i = 0; i < 5000; i += 1) d.push(i);
    for (let i = 0; i < 4000; i += 1) expect(d.shift()).toBe(i);
    expect(d.length).toBe(1000);
    expect(d.peek()).toBe(4000);
    expect(d.at(999)).toBe(4999);
    expect(d.at(1000)).toBeUndefined();
    expect(d.toArray()).toHaveLength(1000);
    d.clear();
    expect(d.shift()).toBeUndefined();
  });
});
