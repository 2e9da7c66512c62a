import { describe, expect, it } from 'vitest';
import { decideResponseHead } from './response-policy.js';
import type { ResponseHeadDecision, ResponseHeadInput } from './response-policy.js';

const BASE: ResponseHeadInput = { ordinal: 1, keepAliveMax: 1000, draining: false, queuedBehind: 0, closing: false, handlerClose: false, advertise: true };

const CASES: readonly [string, Partial<ResponseHeadInput>, ResponseHeadDecision][] = [
  ['the first of 1000: persists, max=999', {}, { close: false, reason: null, keepAliveMax: 999 }],
  ['the 999th of 1000: max=1', { ordinal: 999 }, { close: false, reason: null, keepAliveMax: 1 }],
  ['the 1000th of 1000: closes, no Keep-Alive', { ordinal: 1000 }, { close: true, reason: 'keep-alive-max', keepAliveMax: null }],
  ['past keepAliveMax (never max < 0)', { ordinal: 1001 }, { close: true, reason: 'keep-alive-max', keepAliveMax: null }],
  ['keepAliveMax 1: the first closes', { keepAliveMax: 1 }, { close: true, reason: 'keep-alive-max', keepAliveMax: null }],
  ['no limit: Keep-Alive without max', { keepAliveMax: Number.POSITIVE_INFINITY, ordinal: 5000 }, { close: false, reason: null, keepAliveMax: Number.POSITIVE_INFINITY }],
  ['the handler says close', { handlerClose: true }, { close: true, reason: 'connection-close', keepAliveMax: null }],
  ['the handler says close on the last by the limit: the limit is the reason', { handlerClose: true, ordinal: 1000 }, { close: true, reason: 'keep-alive-max', keepAliveMax: null }],
  ['shutting down, last received: closes', { draining: true }, { close: true, reason: 'shutdown', keepAliveMax: null }],
  ['shutting down, more received: persists, advertises nothing', { draining: true, queuedBehind: 2 }, { close: false, reason: null, keepAliveMax: null }],
  ['the protocol already closes: nothing advertised, the protocol says close', { closing: true }, { close: false, reason: null, keepAliveMax: null }],
  ['advertising off', { advertise: false }, { close: false, reason: null, keepAliveMax: null }],
  ['advertising off still closes at the limit', { advertise: false, ordinal: 1000 }, { close: true, reason: 'keep-alive-max', keepAliveMax: null }],
];

describe('decideResponseHead', () => {
  it.each(CASES)('%s', (_name, input, expected) => {
    expect(decideResponseHead({ ...BASE, ...input })).toEqual(expected);
  });

  it('never closes and advertises at once; max is ≥ 1 and within keepAliveMax (every small case)', () => {
    for (let keepAliveMax = 1; keepAliveMax <= 6; keepAliveMax++) {
      for (let ordinal = 1; ordinal <= 8; ordinal++) {
        for (const draining of [false, true]) {
          for (const closing of [false, true]) {
            for (const handlerClose of [false, true]) {
              for (const queuedBehind of [0, 1, 3]) {
                const d = decideResponseHead({ ...BASE, keepAliveMax, ordinal, draining, closing, handlerClose, queuedBehind });
                if (d.close) expect(d.keepAliveMax).toBeNull();
                if (d.keepAliveMax !== null) {
                  expect(d.keepAliveMax).toBeGreaterThanOrEqual(1);
                  expect(ordinal + d.keepAliveMax).toBeLessThanOrEqual(keepAliveMax);
                }
                if (ordinal >= keepAliveMax) expect(d.close).toBe(true);
              }
            }
          }
        }
      }
    }
  });
});
