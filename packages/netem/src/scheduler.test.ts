import { describe, expect, it } from 'vitest';

import type { Output } from './flow.js';
import { Scheduler } from './scheduler.js';
import type { SchedulerOptions } from './scheduler.js';
import type { Toxic } from './toxics.js';

/** A scheduler with a fake clock: model times are whatever the test passes to `advance`. */
function scheduler(options: Partial<SchedulerOptions> = {}): Scheduler<string> {
  return new Scheduler<string>({
    direction: 'downstream',
    bandwidth: Number.POSITIVE_INFINITY,
    rtt: 0,
    mss: 100,
    initialWindow: Number.POSITIVE_INFINITY,
    maxWindow: Number.POSITIVE_INFINITY,
    restartAfter: Number.POSITIVE_INFINITY,
    ...options,
  });
}

/** Drive `s` to `until` by jumping from event to event (an ideal timer). Bounded in steps. */
function runIdeal(s: Scheduler<string>, until: number): Output<string>[] {
  const out: Output<string>[] = [];
  for (let i = 0; i < 100_000; i += 1) {
    const next = s.nextEventTime();
    if (next > until) break;
    s.advance(next, out);
  }
  s.advance(until, out);
  return out;
}

/** Drive `s` to `until` in steps of `tick` ms (a coarse, late timer). */
function runTicks(s: Scheduler<string>, until: number, tick: number): Output<string>[] {
  const out: Output<string>[] = [];
  for (let now = s.time; now < until; now += tick) s.advance(now, out);
  s.advance(until, out);
  return out;
}

const bytes = (n: number): Uint8Array => new Uint8Array(n).map((_, i) => i % 251);

/** [model time, bytes] of every data output. */
const deliveries = (out: readonly Output<string>[]): [number, number][] => out.flatMap((o) => (o.kind === 'data' ? [[o.at, o.bytes] as [number, number]] : []));

const total = (out: readonly Output<string>[], tag?: string): number =>
  out.reduce((sum, o) => sum + (o.kind === 'data' && (tag === undefined || o.tag === tag) ? o.bytes : 0), 0);

const lastAt = (out: readonly Output<string>[], tag?: string): number =>
  Math.max(...out.filter((o) => o.kind === 'data' && (tag === undefined || o.tag === tag)).map((o) => o.at));

describe('Scheduler: delay', () => {
  it('delivers a byte rtt/2 after it is sent', () => {
    const s = scheduler({ rtt: 100 });
    const f = s.open('a', 0);
    f.enqueue(bytes(10));
    expect(s.nextEventTime()).toBe(0);
    const out = runIdeal(s, 1000);
    expect(deliveries(out)).toEqual([[50, 10]]);
  });

  it('holds data until openAt (the handshake), then adds rtt/2', () => {
    const s = scheduler({ rtt: 100 });
    const f = s.open('a', 100);
    f.enqueue(bytes(10));
    expect(deliveries(runIdeal(s, 1000))).toEqual([[150, 10]]);
  });

  it('passes bytes through unchanged and in order', () => {
    const s = scheduler({ rtt: 20, bandwidth: 50_000, initialWindow: 300 });
    const f = s.open('a', 0);
    const input = bytes(5000);
    f.enqueue(input.subarray(0, 1234));
    f.enqueue(input.subarray(1234));
    const out = runTicks(s, 2000, 3);
    const received = Buffer.concat(out.flatMap((o) => (o.kind === 'data' ? o.chunks : [])));
    expect(Buffer.compare(received, Buffer.from(input))).toBe(0);
  });

  it('with rtt 0 and no limits delivers in the same advance', () => {
    const s = scheduler();
    const f = s.open('a', 0);
    f.enqueue(bytes(10_000));
    const out: Output<string>[] = [];
    s.advance(0, out);
    expect(total(out)).toBe(10_000);
  });
});

describe('Scheduler: bandwidth', () => {
  it('serializes at the link rate: 1000 bytes at 1000 B/s take 1 s', () => {
    const s = scheduler({ bandwidth: 1000 });
    const f = s.open('a', 0);
    f.enqueue(bytes(1000));
    const out = runIdeal(s, 5000);
    expect(total(out)).toBe(1000);
    expect(lastAt(out)).toBeCloseTo(1000, 6);
  });

  it('timer lateness does not accumulate: coarse ticks give the same model times', () => {
    const ideal = scheduler({ bandwidth: 100_000, rtt: 30, initialWindow: 1000 });
    ideal.open('a', 10).enqueue(bytes(50_000));
    const coarse = scheduler({ bandwidth: 100_000, rtt: 30, initialWindow: 1000 });
    coarse.open('a', 10).enqueue(bytes(50_000));
    const a = deliveries(runIdeal(ideal, 5000));
    const b = runTicks(coarse, 5000, 7);
    expect(total(b)).toBe(50_000);
    // Coarse ticks merge deliveries into fewer outputs, but the last byte's model time is the same.
    expect(lastAt(b)).toBeCloseTo(Math.max(...a.map(([t]) => t)), 6);
  });

  it('shares the link fairly: two backlogged flows each get half', () => {
    const s = scheduler({ bandwidth: 100_000, rtt: 0 });
    s.open('a', 0).enqueue(bytes(50_000));
    s.open('b', 0).enqueue(bytes(50_000));
    const out = runTicks(s, 500, 1);
    // At 500 ms the link has carried 50 000 bytes: 25 000 each (± one segment).
    expect(Math.abs(total(out, 'a') - 25_000)).toBeLessThanOrEqual(100);
    expect(Math.abs(total(out, 'b') - 25_000)).toBeLessThanOrEqual(100);
    const rest = runTicks(s, 2000, 1);
    // Both finish together at 1000 ms (outputs merged per 1 ms tick carry their first byte's time).
    expect(lastAt(rest, 'a')).toBeGreaterThanOrEqual(999);
    expect(lastAt(rest, 'b')).toBeGreaterThanOrEqual(999);
    expect(total(rest)).toBe(50_000);
  });

  it('is work-conserving: a lone flow gets the whole link, a newcomer takes half from then on', () => {
    const s = scheduler({ bandwidth: 100_000 });
    s.open('a', 0).enqueue(bytes(60_000));
    const first = runTicks(s, 200, 1); // a alone: 20 000 bytes
    expect(total(first, 'a')).toBe(20_000);
    s.open('b', 200).enqueue(bytes(20_000));
    const rest = runTicks(s, 2000, 1);
    // From 200 ms both share: b's 20 000 bytes take 400 ms at half rate; then a, alone again,
    // sends its last 20 000 bytes by 800 ms.
    expect(lastAt(rest, 'b')).toBeGreaterThanOrEqual(599);
    expect(lastAt(rest, 'b')).toBeLessThanOrEqual(600);
    expect(lastAt(rest, 'a')).toBeGreaterThanOrEqual(799);
    expect(total(rest)).toBe(60_000);
  });
});

describe('Scheduler: slow start', () => {
  it('delivers IW, 2·IW, 4·IW … per RTT', () => {
    const s = scheduler({ rtt: 100, initialWindow: 1000 });
    s.open('a', 0).enqueue(bytes(7000 + 1));
    const out = runIdeal(s, 2000);
    const perRound = new Map<number, number>();
    for (const [t, n] of deliveries(out)) perRound.set(Math.round(t), (perRound.get(Math.round(t)) ?? 0) + n);
    expect([...perRound]).toEqual([
      [50, 1000],
      [150, 2000],
      [250, 4000],
      [350, 1],
    ]);
  });

  it('keeps its grown window on a reused connection', () => {
    const s = scheduler({ rtt: 100, initialWindow: 1000 });
    const f = s.open('a', 0);
    f.enqueue(bytes(7000));
    runIdeal(s, 1000);
    expect(f.counters().cwnd).toBe(8000);
    f.enqueue(bytes(7000));
    const out = runIdeal(s, 2000);
    expect(deliveries(out)).toEqual([[1050, 7000]]);
  });

  it('restarts the window after an idle period longer than restartAfter (RFC 5681 §4.1)', () => {
    const s = scheduler({ rtt: 100, initialWindow: 1000, restartAfter: 300 });
    const f = s.open('a', 0);
    f.enqueue(bytes(7000)); // last send at 200
    runIdeal(s, 450);
    f.enqueue(bytes(7000)); // idle 250 ms ≤ 300: keeps 8000
    expect(lastAt(runIdeal(s, 1000))).toBe(500);
    f.enqueue(bytes(7000)); // last send at 450, now 1000: idle 550 ms > 300: back to 1000
    expect(lastAt(runIdeal(s, 2000))).toBe(1250);
    expect(f.counters().windowRestarts).toBe(1);
  });

  it('caps bytes in flight at maxWindow', () => {
    const s = scheduler({ rtt: 100, initialWindow: Number.POSITIVE_INFINITY, maxWindow: 1000 });
    s.open('a', 0).enqueue(bytes(3000));
    expect(deliveries(runIdeal(s, 1000)).map(([t]) => t)).toEqual([50, 150, 250]);
  });
});

describe('Scheduler: FIN and reset', () => {
  it('delivers the FIN after the data before it', () => {
    const s = scheduler({ rtt: 100, bandwidth: 10_000 });
    const f = s.open('a', 0);
    f.enqueue(bytes(1000));
    f.finish();
    const out = runIdeal(s, 1000);
    expect(out.map((o) => [o.kind, o.at])).toEqual([
      ...Array.from({ length: 10 }, (_, i) => ['data', (i + 1) * 10 + 50]),
      ['fin', 150],
    ]);
  });

  it('holds a FIN until the handshake', () => {
    const s = scheduler({ rtt: 100 });
    s.open('a', 100).finish();
    expect(runIdeal(s, 1000).map((o) => [o.kind, o.at])).toEqual([['fin', 150]]);
  });

  it('a reset drops unsent bytes, follows what is in flight, and ends the flow', () => {
    const s = scheduler({ rtt: 100, initialWindow: 1000 });
    const f = s.open('a', 0);
    f.enqueue(bytes(5000));
    runIdeal(s, 10); // 1000 bytes in flight until 50
    f.reset(10);
    const out = runIdeal(s, 1000);
    expect(out.map((o) => [o.kind, o.at])).toEqual([
      ['data', 50],
      ['reset', 60],
    ]);
    expect(total(out)).toBe(1000);
    expect(f.finished).toBe(true);
  });

  it('a reset waits for notBefore', () => {
    const s = scheduler({ rtt: 100 });
    const f = s.open('a', 150);
    f.reset(0, 50);
    expect(runIdeal(s, 1000).map((o) => [o.kind, o.at])).toEqual([['reset', 100]]);
  });

  it('a closed flow outputs nothing more and is forgotten', () => {
    const s = scheduler({ rtt: 100 });
    const f = s.open('a', 0);
    f.enqueue(bytes(100));
    f.close();
    expect(runIdeal(s, 1000)).toEqual([]);
    expect(s.flowCount).toBe(0);
    expect(s.nextEventTime()).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('Scheduler: toxics', () => {
  const withToxics = (toxics: Toxic[], options: Partial<SchedulerOptions> = {}): { s: Scheduler<string>; out: Output<string>[] } => {
    const s = scheduler({ rtt: 100, ...options });
    const f = s.open('a', 0, toxics);
    f.enqueue(bytes(1000));
    return { s, out: runIdeal(s, 5000) };
  };

  it('reset-after N delivers exactly N bytes, then the reset action', () => {
    const { out } = withToxics([{ kind: 'reset-after', bytes: 300 }]);
    expect(total(out)).toBe(300);
    expect(out.at(-1)).toMatchObject({ kind: 'toxic', action: 'reset', at: 50 });
  });

  it('close-after N delivers exactly N bytes, then the close action', () => {
    const { out } = withToxics([{ kind: 'close-after', bytes: 999 }]);
    expect(total(out)).toBe(999);
    expect(out.at(-1)).toMatchObject({ kind: 'toxic', action: 'close' });
  });

  it('toxics of the other direction do nothing', () => {
    const { out } = withToxics([{ kind: 'close-after', bytes: 1, direction: 'upstream' }]);
    expect(total(out)).toBe(1000);
  });

  it('stall holds bytes after afterBytes for ms', () => {
    const { out } = withToxics([{ kind: 'stall', afterBytes: 400, ms: 300 }]);
    expect(deliveries(out)).toEqual([
      [50, 400],
      [350, 600],
    ]);
  });

  it('stall from the start counts from when the connection opened', () => {
    const { out } = withToxics([{ kind: 'stall', ms: 200 }]);
    expect(deliveries(out)).toEqual([[200, 1000]]);
  });

  it('an endless stall holds everything, and held bytes count as buffered', () => {
    const s = scheduler({ rtt: 100 });
    const f = s.open('a', 0, [{ kind: 'stall', afterBytes: 10 }]);
    f.enqueue(bytes(1000));
    const out = runIdeal(s, 5000);
    expect(total(out)).toBe(10);
    expect(f.buffered(5000)).toBe(990);
    expect(s.nextEventTime()).toBe(Number.POSITIVE_INFINITY);
  });

  it('slice cuts deliveries into separate outputs of at most size bytes', () => {
    const { out } = withToxics([{ kind: 'slice', size: 64 }]);
    const sizes = deliveries(out).map(([, n]) => n);
    expect(sizes).toHaveLength(Math.ceil(1000 / 64));
    expect(Math.max(...sizes)).toBe(64);
    expect(total(out)).toBe(1000);
  });

  it('slice with delayMs spaces the writes from when each was made', () => {
    const { out } = withToxics([{ kind: 'slice', size: 250, delayMs: 10 }]);
    expect(deliveries(out)).toEqual([
      [50, 250],
      [60, 250],
      [70, 250],
      [80, 250],
    ]);
  });
});
