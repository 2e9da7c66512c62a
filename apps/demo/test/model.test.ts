/** The model on cases computed by hand (see the derivation in each comment). */
import { describe, expect, it } from 'vitest';
import { interleavedMarks, inOrderMarks, predict, transfer } from '../src/model.js';
import type { Scenario } from '../src/model.js';

describe('transfer', () => {
  it('a response within the first window: serialization plus half an RTT', () => {
    // 14,600 B at 1,000 B/ms = 14.6 ms, + 50 ms propagation.
    expect(transfer(14_600, 14_600, 1000, 100)).toEqual({ ms: 64.6, cwnd: 29_200 });
  });

  it('slow start: 100 KB with a 14.6 KB window and a 100 KB pipe takes three rounds', () => {
    // Rounds send 14,600 (t=0), 29,200 (t=100), then the last 56,200 at t=200 taking 56.2 ms; + 50.
    const x = transfer(100_000, 14_600, 1000, 100);
    expect(x.ms).toBeCloseTo(306.2, 6);
    expect(x.cwnd).toBe(114_600);
  });

  it('a window that fills the pipe streams at the full rate', () => {
    // 150,000 B with a 100,000 B window on a 100,000 B pipe: 150 ms + 50.
    expect(transfer(150_000, 100_000, 1000, 100).ms).toBe(200);
  });

  it('unlimited bandwidth: only the rounds count', () => {
    // 14,600 then 29,200 (t=100), the last 6,200 at t=200 in no time; + 50.
    expect(transfer(50_000, 14_600, Infinity, 100).ms).toBe(250);
  });

  it('no RTT: only the bandwidth counts', () => {
    expect(transfer(50_000, 14_600, 1000, 0).ms).toBe(50);
  });
});

/** Equal within a few of the model's computation steps. */
function expectTimes(actual: readonly number[], expected: readonly number[]): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((a, i) => expect(Math.abs(a - expected[i]!)).toBeLessThanOrEqual(0.25));
}

describe('predict', () => {
  // R = 100 ms, 1,000 B/ms, W₀ = 10,000 B, a 1,000 B document, objects of 2,000 and 30,000 B.
  const s: Scenario = { rttMs: 100, bandwidth: 1_000_000, initialWindow: 10_000, connections: 6, htmlBytes: 1000, objectBytes: [2000, 30_000] };
  // The document: 150 (handshake + request) + 1 + 50 = 201.
  const html = 201;

  it('serial: a handshake and a fresh window per object', () => {
    // Object 1: 150 + 2 + 50 = 202 → 403. Object 2: 150 + [10,000 at t=0, 20,000 at t=100 takes 20 ms] + 50 = 320 → 723.
    const p = predict('serial', s);
    expectTimes(p.objectEndMs, [html + 202, html + 202 + 320]);
    expect(p.totalMs).toBeCloseTo(723, 0);
    expect(p.firstObjectMs).toBeCloseTo(403, 0);
    expect(p).toMatchObject({ connections: 3, handshakes: 3, requestsPerConnection: [1, 1, 1] });
  });

  it('persistent: one request RTT per object, the window grown by what came before', () => {
    // Window after the document: 11,000. Object 1: 50 + 2 + 50 = 102 → 303; window 13,000.
    // Object 2: 50 + [13,000 at t=0; 17,000 at t=100 takes 17 ms] + 50 = 217 → 520.
    const p = predict('persistent', s);
    expectTimes(p.objectEndMs, [303, 520]);
    expect(p).toMatchObject({ connections: 1, requestsPerConnection: [3] });
  });

  it('pipelined: one batch for every object', () => {
    // Batch sent at 201: + 50, then 2,000 B in 2 ms + 50 → 303; all 32,000 B: 11,000 at 0,
    // 21,000 at 100 in 21 ms, + 50 → 201 + 50 + 171 = 422.
    const p = predict('pipelined', s);
    expectTimes(p.objectEndMs, [303, 422]);
    expect(p.totalMs).toBeCloseTo(422, 0);
  });

  it('pooled: the document connection takes the first object, a new one the second', () => {
    // Lane 1 (warm): its response leaves at 251 and is alone on the link: 2 ms, + 50 → 303.
    // Lane 2 (new): its response leaves at 351, alone: 10,000 B, then 20,000 B at 451 in 20 ms,
    // + 50 → 521.
    const p = predict('pooled', s);
    expectTimes(p.objectEndMs, [303, 521]);
    expect(p).toMatchObject({ connections: 2, requestsPerConnection: [2, 1] });
  });

  it('parallel: every object on a new connection, up to `connections` at once', () => {
    const p = predict('parallel', s);
    // Both responses leave at 351 and share the link: 2,000 B at 500 B/ms = 4 ms, + 50 → 405.
    // The other sends 2,000 B meanwhile, then the rest of its 10,000 B window alone (8 ms); its
    // second round at 451 takes 20 ms, + 50 → 521.
    expectTimes(p.objectEndMs, [405, 521]);
    expect(p.connections).toBe(3);
  });

  it('pooled + pipelined: a new connection sends one request, then the rest of its share as a batch', () => {
    // Unlimited bandwidth: the document arrives at 150 + 50 = 200. Objects 0 and 2 go pipelined
    // on its connection (leave at 250, arrive 300); object 1 on a new one (leaves 350, arrives 400).
    const p = predict('pooled-pipelined', { ...s, bandwidth: Infinity, connections: 2, objectBytes: [1000, 1000, 1000] });
    expectTimes(p.objectEndMs, [300, 400, 300]);
    expect(p.requestsPerConnection).toEqual([3, 1]);
  });

  it('a late object holds back those behind it when pipelined, not when multiplexed', () => {
    // Unlimited bandwidth, 1,000 B objects; the document arrives at 200, the batch reaches the
    // server at 250. Object 0 is 300 ms late: pipelined, everything leaves at 550 (→ 600);
    // multiplexed, objects 1 and 2 leave at 250 (→ 300), object 0 at 550 (→ 600).
    const late: Scenario = { ...s, bandwidth: Infinity, objectBytes: [1000, 1000, 1000], slow: { index: 0, delayMs: 300 } };
    expectTimes(predict('pipelined', late).objectEndMs, [600, 600, 600]);
    expectTimes(predict('multiplexed', late).objectEndMs, [600, 300, 300]);
    // Persistent: object 0 leaves at 550 (→ 600); then one round trip each: 700, 800.
    expectTimes(predict('persistent', late).objectEndMs, [600, 700, 800]);
  });

  it('a single response on the shared link matches the closed form', () => {
    const one: Scenario = { rttMs: 80, bandwidth: 2_000_000, initialWindow: 14_600, connections: 1, htmlBytes: 500, objectBytes: [180_000] };
    const doc = 1.5 * 80 + transfer(500, 14_600, 2000, 80).ms;
    const obj = transfer(180_000, 14_600 + 500, 2000, 80).ms;
    expect(predict('persistent', one).totalMs).toBeCloseTo(doc + 40 + obj, 0);
  });

  it("the machine's measured work: per exchange, and more per new connection", () => {
    // Unlimited bandwidth, no RTT, 1,000 B objects: only the machine's work counts.
    // requestMs 2, connectMs 3. Serial: the document 2 + 3 = 5, then each object 5 more: 10, 15.
    const cpu: Scenario = { ...s, rttMs: 0, bandwidth: Infinity, objectBytes: [1000, 1000], requestMs: 2, connectMs: 3 };
    expectTimes(predict('serial', cpu).objectEndMs, [10, 15]);
    // Persistent: the document 5, then 2 per object on the open connection: 7, 9.
    expectTimes(predict('persistent', cpu).objectEndMs, [7, 9]);
    // Pipelined: one batch after the document, 2 once: both at 7.
    expectTimes(predict('pipelined', cpu).objectEndMs, [7, 7]);
    // With an RTT of 100 it adds to the round trips: serial, 3 connections × (2 RTT + 5).
    expectTimes([predict('serial', { ...cpu, rttMs: 100 }).totalMs], [3 * 205]);
  });

  it('multiplexed responses share the connection frame by frame: a small one need not wait for a large one', () => {
    // No slow start, objects of 30,000 and 2,000 B. The batch leaves at 251 (document 201, + 50).
    // Multiplexed: 16,384 B of object 0, then all of object 1 (ends at 18,384 B: 18.384 ms, + 50 →
    // 319.384), then the rest of object 0 (32,000 B: 32 ms, + 50 → 333). Pipelined, in order:
    // object 0 at 30 ms (→ 331), object 1 at 32 ms (→ 333).
    const twoSizes: Scenario = { ...s, initialWindow: Infinity, objectBytes: [30_000, 2000] };
    expectTimes(predict('multiplexed', twoSizes).objectEndMs, [333, 319.384]);
    expectTimes(predict('pipelined', twoSizes).objectEndMs, [331, 333]);
  });
});

describe('where responses of a batch end (bytes of the batch)', () => {
  it.each([
    // One frame each: in order either way.
    { sizes: [2000, 3000, 1000], inOrder: [2000, 5000, 6000], interleaved: [2000, 5000, 6000] },
    // 30,000 B takes two frames (16,384 + 13,616): the 2,000 B responses go between them.
    { sizes: [30_000, 2000, 2000], inOrder: [30_000, 32_000, 34_000], interleaved: [34_000, 18_384, 20_384] },
    // Two large ones alternate: 16,384 + 16,384, then 3,616 (ends at 36,384), then 13,616 (50,000).
    { sizes: [20_000, 30_000], inOrder: [20_000, 50_000], interleaved: [36_384, 50_000] },
    { sizes: [0, 1000], inOrder: [0, 1000], interleaved: [0, 1000] },
    { sizes: [], inOrder: [], interleaved: [] },
  ])('$sizes', ({ sizes, inOrder, interleaved }) => {
    expect(inOrderMarks(sizes)).toEqual(inOrder);
    expect(interleavedMarks(sizes)).toEqual(interleaved);
  });
});
