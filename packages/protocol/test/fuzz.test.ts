/**
 * Theory of operation: the bounded run of the mutation fuzzer (scripts/fuzz-core.mjs) against
 * the sources, plus checks that the fuzzer's oracle really catches what it claims to (a parser
 * that throws a TypeError, loops, or invents body bytes is reported), and that a connection
 * refuses a flood of bytes within its limits instead of buffering it.
 *
 * The long-running form is `pnpm --filter @tether/protocol fuzz [iterations] [seed]`.
 */

import { describe, expect, it } from 'vitest';

import {
  boundedBufferingChecks,
  describeFailure,
  exercise,
  fromHex,
  fuzzCase,
  latin1,
  runFuzz,
  toHex,
} from '../scripts/fuzz-core.mjs';
import type { Protocol } from '../scripts/fuzz-core.mjs';
import { Connection, DEFAULT_MAX_HEAD_BYTES, NEED_DATA, PAUSED, RemoteProtocolError } from '../src/index.js';
import type { NextEvent } from '../src/index.js';

const protocol: Protocol = { Connection, RemoteProtocolError, NEED_DATA, PAUSED };

/** Fixed so the suite is reproducible; the script takes any seed. */
const SEED = 0x7e7e_2024;
const ITERATIONS = 5000;

describe('mutation fuzzer', () => {
  it(`${ITERATIONS} mutated requests and responses: only RemoteProtocolError, bounded events, no invented body bytes`, () => {
    const report = runFuzz(protocol, { seed: SEED, iterations: ITERATIONS, maxFailures: 5 });
    expect(report.failures.map(describeFailure)).toEqual([]);
    expect(report.iterations).toBe(ITERATIONS);
    // The mutations must reach both acceptance and many distinct refusals, in both roles:
    // a fuzzer whose inputs all die on the first byte would pass vacuously.
    const outcomes = [...report.outcomes.keys()];
    for (const role of ['server', 'client']) {
      expect(report.outcomes.get(`${role}:ok`) ?? 0).toBeGreaterThan(ITERATIONS / 10);
      expect(outcomes.filter((k) => k.startsWith(`${role}:H1_`)).length).toBeGreaterThanOrEqual(8);
    }
  }, 20_000);

  it('is deterministic: a case is a pure function of (seed, iteration)', () => {
    const a = fuzzCase(SEED, 1234);
    const b = fuzzCase(SEED, 1234);
    expect(toHex(a.input)).toBe(toHex(b.input));
    expect(a.parts.map((p) => p.length)).toEqual(b.parts.map((p) => p.length));
    expect(a.mutations).toEqual(b.mutations);
    expect(toHex(fuzzCase(SEED, 1235).input)).not.toBe(toHex(a.input));
    expect(fromHex(toHex(a.input))).toEqual(a.input);
  });
});

describe("the fuzzer's oracle catches broken parsers", () => {
  const input = [latin1('GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc')];

  it('reports an exception other than RemoteProtocolError', () => {
    class Throws extends Connection {
      override nextEvent(): NextEvent {
        throw new TypeError('boom');
      }
    }
    const r = exercise({ ...protocol, Connection: Throws }, 'server', input, true);
    expect(r.failure).toBe('threw');
    expect(r.message).toContain('TypeError: boom');
  });

  it('reports a parser that never stops producing events', () => {
    class Loops extends Connection {
      override nextEvent(): NextEvent {
        return { type: 'data', data: new Uint8Array(0) };
      }
    }
    const r = exercise({ ...protocol, Connection: Loops }, 'client', input, false);
    expect(r.failure).toBe('hang');
    expect(r.events).toBe(input[0]!.length * 4 + 100);
  });

  it('reports body bytes that were never received', () => {
    class Invents extends Connection {
      #sent = false;
      override nextEvent(): NextEvent {
        if (this.#sent) return NEED_DATA;
        this.#sent = true;
        return { type: 'data', data: new Uint8Array(1000) };
      }
    }
    const r = exercise({ ...protocol, Connection: Invents }, 'server', input, false);
    expect(r.failure).toBe('data-overflow');
  });

  it('reports a RemoteProtocolError that is not sticky', () => {
    class Forgets extends Connection {
      #calls = 0;
      override nextEvent(): NextEvent {
        if (++this.#calls === 1) throw new RemoteProtocolError('H1_INVALID_METHOD', 'first time only');
        return NEED_DATA;
      }
    }
    const r = exercise({ ...protocol, Connection: Forgets }, 'server', input, false);
    expect(r.failure).toBe('not-sticky');
  });

  it('passes the real connection on the same input', () => {
    expect(exercise(protocol, 'server', input, true)).toMatchObject({ outcome: 'ok', failure: null, dataBytes: 3 });
  });
});

describe('bounded buffering: a flood is refused within the limits, not stored', () => {
  const checks = boundedBufferingChecks(protocol);

  it.each(checks.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    expect(c.outcome).toBe(c.expected);
    expect(c.fed).toBeLessThanOrEqual(c.limit);
    if (c.expected === 'ok') expect(c.retained).toBe(0);
  });

  it('1 MiB of garbage without a line end: H1_HEADERS_TOO_LARGE before the head limit is passed by more than one read', () => {
    const status = checks.find((c) => c.name === 'status line without a line end');
    expect(status?.outcome).toBe('H1_HEADERS_TOO_LARGE');
    expect(status?.fed).toBeGreaterThan(DEFAULT_MAX_HEAD_BYTES);
    expect(status?.fed).toBeLessThanOrEqual(DEFAULT_MAX_HEAD_BYTES + 4096);
  });
});
