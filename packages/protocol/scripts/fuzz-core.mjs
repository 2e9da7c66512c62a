// @ts-check
/**
 * Theory of operation: a bounded mutation fuzzer for @tether/protocol's Connection, shared by
 * the test suite (test/fuzz.test.ts, a few thousand iterations against src/) and the
 * long-running script (scripts/fuzz.mjs, as many as you like against dist/).
 *
 * It imports nothing: the caller passes the protocol module in ({@link Protocol}), so the test
 * fuzzes the TypeScript sources and the script the built package, with one copy of the code.
 *
 * Every case is a pure function of (seed, iteration) — a PRNG seeded from both picks a corpus
 * message, 1–4 mutations and the cut points — so any failure is replayed from those two numbers.
 * Each input is fed, cut into chunks, to a server-role Connection and to a client-role one that
 * has sent a GET (sometimes two, pipelined), and must:
 * - raise nothing but RemoteProtocolError, and keep raising that same error afterwards;
 * - make progress: at most `input.length * 4 + 100` events per connection (else: a hang);
 * - never hand out more body bytes than it was fed.
 * {@link boundedBufferingChecks} adds the memory side: a megabyte without a line end (or a
 * chunk-size line, or a trailer section, that never ends) is refused within the head limit.
 */

/**
 * The parts of @tether/protocol the fuzzer drives (src/index.ts or dist/index.js).
 * @typedef {Pick<typeof import('../src/index.js'), 'Connection' | 'RemoteProtocolError' | 'NEED_DATA' | 'PAUSED'>} Protocol
 */

/**
 * A case that broke an invariant.
 * @typedef {object} Failure
 * @property {number} seed
 * @property {number} iteration
 * @property {'server' | 'client'} role
 * @property {'threw' | 'not-sticky' | 'hang' | 'data-overflow'} kind
 * @property {string} message
 * @property {Uint8Array} input
 * @property {number[]} cuts The lengths of the chunks the input was fed in.
 * @property {boolean} eof Whether end of input was signalled after the last chunk.
 * @property {string[]} mutations
 */

/**
 * What one role made of one input: `'ok'` or the RemoteProtocolError code.
 * @typedef {object} RoleResult
 * @property {string} outcome
 * @property {number} events
 * @property {number} dataBytes
 * @property {Failure['kind'] | null} failure
 * @property {string} message
 */

/**
 * @typedef {object} FuzzCase
 * @property {Uint8Array} input
 * @property {Uint8Array[]} parts
 * @property {boolean} eof
 * @property {number} pipelined How many GETs the client role sent before reading.
 * @property {string[]} mutations
 */

/**
 * @typedef {object} FuzzProgress
 * @property {number} iteration Iterations done.
 * @property {number} elapsedMs
 * @property {number} bytes Input bytes fed so far (per role).
 * @property {ReadonlyMap<string, number>} outcomes `role:outcome` → count.
 * @property {number} failures
 */

/**
 * @typedef {object} FuzzOptions
 * @property {number} seed
 * @property {number} iterations
 * @property {number} [firstIteration] Start here (to replay one case, or resume).
 * @property {number} [maxFailures] Stop after this many failures (default 10).
 * @property {number} [deadlineMs] Stop when `Date.now()` passes this.
 * @property {number} [progressEvery] Call `onProgress` every this many iterations.
 * @property {(p: FuzzProgress) => void} [onProgress]
 */

/**
 * @typedef {object} FuzzReport
 * @property {number} iterations Iterations done.
 * @property {number} bytes
 * @property {Map<string, number>} outcomes
 * @property {Failure[]} failures
 */

// ---------------------------------------------------------------------------------------------
// PRNG

/**
 * A small seeded PRNG (mulberry32): deterministic across engines, good enough to pick mutations.
 * @param {number} seed
 * @returns {() => number} a function returning uniform uint32 values
 */
export function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** A PRNG with helpers. */
class Rng {
  /** @param {number} seed */
  constructor(seed) {
    this.next = mulberry32(seed);
  }

  /** @param {number} n @returns {number} an integer in [0, n) */
  int(n) {
    return n <= 0 ? 0 : this.next() % n;
  }

  /** @param {number} p @returns {boolean} true with probability p */
  chance(p) {
    return this.next() / 0x100000000 < p;
  }

  /**
   * @template T
   * @param {readonly T[]} list
   * @returns {T}
   */
  pick(list) {
    const item = list[this.int(list.length)];
    if (item === undefined) throw new Error('pick from an empty list');
    return item;
  }
}

/**
 * The seed of one iteration's PRNG, mixed from the run seed and the iteration number.
 * @param {number} seed
 * @param {number} iteration
 * @returns {number}
 */
function caseSeed(seed, iteration) {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(iteration + 1, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  return h >>> 0;
}

// ---------------------------------------------------------------------------------------------
// Bytes

/** @param {string} s @returns {Uint8Array} one octet per character */
export function latin1(s) {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff;
  return out;
}

/** @param {Uint8Array} bytes @returns {string} lower-case hex, two digits per octet */
export function toHex(bytes) {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

/** @param {string} hex @returns {Uint8Array} */
export function fromHex(hex) {
  const out = new Uint8Array(hex.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** @param {readonly Uint8Array[]} parts @returns {Uint8Array} */
function concat(parts) {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Corpus

/** Valid requests: every framing, every target form, pipelining, 1.0 keep-alive, upgrades. */
export const REQUEST_CORPUS = [
  'GET / HTTP/1.1\r\nHost: example.com\r\n\r\n',
  'GET /search?q=a%20b&x=1 HTTP/1.1\r\nHost: example.com:8080\r\nUser-Agent: fuzz/1.0\r\nAccept: */*\r\nAccept-Language: en;q=0.8, fr\r\nCookie: a=b; c=d\r\n\r\n',
  'POST /form HTTP/1.1\r\nHost: a\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 11\r\n\r\nhello=world',
  'PUT /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;name=val;q="quo\\"ted"\r\nhello\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nX-Checksum: 42\r\nX-Other: ok\r\n\r\n',
  'GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET /b HTTP/1.0\r\n\r\n',
  'GET /1 HTTP/1.1\r\nHost: a\r\n\r\nHEAD /2 HTTP/1.1\r\nHost: a\r\n\r\nDELETE /3 HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n',
  'OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n',
  'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n\x16\x03\x01tls bytes',
  'GET http://example.com/abs?x HTTP/1.1\r\nHost: example.com\r\n\r\n',
  'GET /chat HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n\x81\x05hello',
  'POST /upload HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\nbody',
  'PATCH /p HTTP/1.1\r\nHost: a\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}GET /ignored HTTP/1.1\r\nHost: a\r\n\r\n',
  '\r\nGET /after-crlf HTTP/1.1\r\nHost: a\r\nX-Obs: caf\xe9 \xff\r\nX-Empty:\r\nX-Tabs: \ta\tb\t\r\n\r\n',
  'POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n',
];

/** Valid responses to a GET (or two): every framing the client can meet. */
export const RESPONSE_CORPUS = [
  'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello',
  'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-T\r\n\r\n4;ext\r\nwiki\r\n5\r\npedia\r\n0\r\nX-T: done\r\n\r\n',
  'HTTP/1.1 204 No Content\r\nDate: Mon, 01 Jan 2024 00:00:00 GMT\r\n\r\n',
  'HTTP/1.1 304 Not Modified\r\nETag: "abc"\r\nContent-Length: 1234\r\n\r\n',
  'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
  'HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<html>read until close</html>',
  'HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5, max=100\r\nContent-Length: 3\r\n\r\nabc',
  'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found',
  'HTTP/1.1 500 Internal Server Error\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n1;a=b;c\r\nx\r\n0\r\n\r\n',
  'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x02hi',
  'HTTP/1.1 200\r\nContent-Length: 2\r\n\r\nok',
  'HTTP/1.1 301 Moved Permanently\r\nLocation: http://example.com/\r\nContent-Length: 0\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\n',
];

const INTERESTING_BYTES = [0x00, 0x09, 0x0a, 0x0d, 0x20, 0x22, 0x2c, 0x2d, 0x30, 0x39, 0x3a, 0x3b, 0x3d, 0x41, 0x5c, 0x61, 0x66, 0x7f, 0x80, 0xa0, 0xff];
const INSERTS = ['\r', '\n', '\0', ' ', ':', '\r\n', '\t', '\r\n\r\n', ',', ';', '"', '\r\r\n', '\n\r'];
const NUMBERS = ['0', '-1', '+5', '00000000000000000005', '18446744073709551616', '9007199254740993', 'ffffffffffffffff', '1e3', ' 5', '5 ', '0x5', '99999999999', '4294967296'];
const FIELD_LINES = [
  'Transfer-Encoding: chunked\r\n', 'Transfer-Encoding: gzip\r\n', 'Transfer-Encoding: chunked, chunked\r\n', 'Transfer-Encoding: identity\r\n',
  'Content-Length: 5\r\n', 'Content-Length: 0\r\n', 'Content-Length: 3, 3\r\n', 'Content-Length: 1, 2\r\n', 'Connection: close\r\n',
  'Connection: keep-alive\r\n', 'Connection: upgrade\r\nUpgrade: h2c\r\n', 'Host: b\r\n', 'Host: a b\r\n', ' folded\r\n', 'X:\0\r\n',
  'X : y\r\n', ': empty-name\r\n', 'Expect: 100-continue\r\n', 'Keep-Alive: timeout=1\r\n',
];

/**
 * Apply 1–4 random mutations to `input`; `others` is the pool to splice from.
 * @param {Rng} rng
 * @param {Uint8Array} input
 * @param {readonly Uint8Array[]} others
 * @returns {{ input: Uint8Array; mutations: string[] }}
 */
function mutate(rng, input, others) {
  let b = input;
  /** @type {string[]} */
  const mutations = [];
  const count = 1 + rng.int(4);
  for (let m = 0; m < count; m++) {
    const at = rng.int(b.length + 1);
    const op = rng.int(12);
    switch (op) {
      case 0: {
        if (b.length === 0) break;
        const i = rng.int(b.length);
        const bit = rng.int(8);
        b = b.slice();
        b[i] = (b[i] ?? 0) ^ (1 << bit);
        mutations.push(`flip bit ${bit} at ${i}`);
        break;
      }
      case 1: {
        if (b.length === 0) break;
        const i = rng.int(b.length);
        const v = rng.pick(INTERESTING_BYTES);
        b = b.slice();
        b[i] = v;
        mutations.push(`set 0x${v.toString(16)} at ${i}`);
        break;
      }
      case 2: {
        const s = rng.pick(INSERTS);
        b = concat([b.subarray(0, at), latin1(s), b.subarray(at)]);
        mutations.push(`insert ${JSON.stringify(s)} at ${at}`);
        break;
      }
      case 3: {
        const n = 1 + rng.int(Math.min(16, Math.max(1, b.length - at)));
        b = concat([b.subarray(0, at), b.subarray(at + n)]);
        mutations.push(`delete ${n} at ${at}`);
        break;
      }
      case 4: {
        const n = 1 + rng.int(32);
        const times = rng.chance(0.1) ? 50 + rng.int(200) : 1 + rng.int(3);
        const slice = b.subarray(at, at + n);
        const copies = Array.from({ length: times }, () => slice);
        b = concat([b.subarray(0, at + slice.length), ...copies, b.subarray(at + slice.length)]);
        mutations.push(`duplicate ${slice.length} at ${at} x${times}`);
        break;
      }
      case 5: {
        const other = rng.pick(others);
        const from = rng.int(other.length + 1);
        b = concat([b.subarray(0, at), other.subarray(from)]);
        mutations.push(`splice other from ${from} at ${at}`);
        break;
      }
      case 6: {
        b = concat([b, rng.pick(others)]);
        mutations.push('append other (pipelined)');
        break;
      }
      case 7: {
        // Replace a run of digits (a length, a status, a chunk size) with an awkward number.
        const digits = [];
        for (let i = 0; i < b.length; i++) if ((b[i] ?? 0) >= 0x30 && (b[i] ?? 0) <= 0x39) digits.push(i);
        if (digits.length === 0) break;
        let start = rng.pick(digits);
        let end = start;
        while (start > 0 && (b[start - 1] ?? 0) >= 0x30 && (b[start - 1] ?? 0) <= 0x39) start--;
        while (end < b.length && (b[end] ?? 0) >= 0x30 && (b[end] ?? 0) <= 0x39) end++;
        const n = rng.pick(NUMBERS);
        b = concat([b.subarray(0, start), latin1(n), b.subarray(end)]);
        mutations.push(`number ${JSON.stringify(n)} at ${start}`);
        break;
      }
      case 8: {
        b = b.subarray(0, at);
        mutations.push(`truncate at ${at}`);
        break;
      }
      case 9: {
        const n = rng.int(24);
        b = b.slice();
        for (let i = at; i < Math.min(b.length, at + n); i++) {
          const c = b[i] ?? 0;
          if ((c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)) b[i] = c ^ 0x20;
        }
        mutations.push(`swap case of ${n} at ${at}`);
        break;
      }
      case 10: {
        // A field line right after the start line.
        const lf = b.indexOf(0x0a);
        const line = rng.pick(FIELD_LINES);
        const i = lf === -1 ? at : lf + 1;
        b = concat([b.subarray(0, i), latin1(line), b.subarray(i)]);
        mutations.push(`field line ${JSON.stringify(line)} at ${i}`);
        break;
      }
      default: {
        const v = rng.int(256);
        b = concat([b.subarray(0, at), Uint8Array.of(v), b.subarray(at)]);
        mutations.push(`insert 0x${v.toString(16)} at ${at}`);
      }
    }
    // Keep inputs small enough for thousands of iterations a second.
    if (b.length > 64 * 1024) b = b.subarray(0, 64 * 1024);
  }
  return { input: b, mutations };
}

/**
 * Cut `input` into chunks: whole, a few random cuts, or (for small inputs) byte by byte.
 * @param {Rng} rng
 * @param {Uint8Array} input
 * @returns {Uint8Array[]}
 */
function split(rng, input) {
  if (input.length === 0) return [];
  if (input.length <= 512 && rng.chance(0.05)) return Array.from(input, (b) => Uint8Array.of(b));
  const cuts = new Set();
  const n = rng.int(8);
  for (let i = 0; i < n; i++) cuts.add(1 + rng.int(input.length));
  const points = [...cuts].filter((c) => c < input.length).sort((a, b) => a - b);
  /** @type {Uint8Array[]} */
  const parts = [];
  let from = 0;
  for (const p of points) {
    parts.push(input.slice(from, p));
    from = p;
  }
  parts.push(input.slice(from));
  return parts;
}

const CORPUS = [...REQUEST_CORPUS, ...RESPONSE_CORPUS].map(latin1);

/**
 * The case of one iteration: a pure function of (seed, iteration).
 * @param {number} seed
 * @param {number} iteration
 * @returns {FuzzCase}
 */
export function fuzzCase(seed, iteration) {
  const rng = new Rng(caseSeed(seed, iteration));
  const base = rng.pick(CORPUS);
  const { input, mutations } = mutate(rng, base, CORPUS);
  return { input, parts: split(rng, input), eof: rng.chance(0.5), pipelined: rng.chance(0.25) ? 2 : 1, mutations };
}

// ---------------------------------------------------------------------------------------------
// Oracle

/**
 * Feed `parts` to a fresh connection of `role` and check the invariants.
 * @param {Protocol} protocol
 * @param {'server' | 'client'} role
 * @param {readonly Uint8Array[]} parts
 * @param {boolean} eof
 * @param {number} [pipelined] GETs the client sends first (default 1)
 * @returns {RoleResult}
 */
export function exercise(protocol, role, parts, eof, pipelined = 1) {
  const { Connection, RemoteProtocolError } = protocol;
  let total = 0;
  for (const p of parts) total += p.length;
  const budget = total * 4 + 100;
  const conn = new Connection(role);
  if (role === 'client') {
    for (let i = 0; i < pipelined; i++) {
      conn.send({ type: 'request', method: 'GET', target: `/${i}`, headers: { Host: 'fuzz.test' } });
      conn.send({ type: 'end-of-message' });
    }
  }
  let events = 0;
  let dataBytes = 0;
  /** @returns {boolean} false when the event budget ran out */
  const pump = () => {
    for (;;) {
      if (events >= budget) return false;
      const e = conn.nextEvent();
      if (e === protocol.NEED_DATA || e === protocol.PAUSED) return true;
      events++;
      if (e.type === 'data') dataBytes += e.data.length;
      if (e.type === 'connection-closed') return true;
    }
  };
  /**
   * @param {string} outcome
   * @param {Failure['kind'] | null} failure
   * @param {string} message
   * @returns {RoleResult}
   */
  const result = (outcome, failure, message) => {
    if (failure === null && dataBytes > total) {
      return { outcome, events, dataBytes, failure: 'data-overflow', message: `${dataBytes} body bytes out of ${total} input bytes` };
    }
    return { outcome, events, dataBytes, failure, message };
  };
  try {
    for (const p of parts) {
      conn.receiveData(p);
      if (!pump()) return result('hang', 'hang', `more than ${budget} events for ${total} input bytes`);
    }
    if (eof) {
      conn.receiveEof();
      if (!pump()) return result('hang', 'hang', `more than ${budget} events for ${total} input bytes`);
    }
  } catch (err) {
    if (!(err instanceof RemoteProtocolError)) {
      const message = err instanceof Error ? `${err.name}: ${err.message}\n${err.stack ?? ''}` : String(err);
      return result('threw', 'threw', message);
    }
    // The receiving side is dead: nextEvent must throw the very same error again.
    try {
      conn.nextEvent();
      return result(err.code, 'not-sticky', `nextEvent() returned after ${err.code}`);
    } catch (again) {
      if (again !== err) return result(err.code, 'not-sticky', `nextEvent() threw something else after ${err.code}`);
    }
    return result(err.code, null, err.message);
  }
  return result('ok', null, '');
}

/**
 * Run `iterations` cases from `seed` against `protocol`.
 * @param {Protocol} protocol
 * @param {FuzzOptions} options
 * @returns {FuzzReport}
 */
export function runFuzz(protocol, options) {
  const { seed, iterations } = options;
  const first = options.firstIteration ?? 0;
  const maxFailures = options.maxFailures ?? 10;
  const every = options.progressEvery ?? 0;
  const started = Date.now();
  /** @type {Map<string, number>} */
  const outcomes = new Map();
  /** @type {Failure[]} */
  const failures = [];
  let bytes = 0;
  let done = 0;
  for (let it = first; it < first + iterations; it++) {
    const c = fuzzCase(seed, it);
    bytes += c.input.length;
    for (const role of /** @type {const} */ (['server', 'client'])) {
      const r = exercise(protocol, role, c.parts, c.eof, c.pipelined);
      const key = `${role}:${r.outcome}`;
      outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
      if (r.failure !== null) {
        failures.push({ seed, iteration: it, role, kind: r.failure, message: r.message, input: c.input, cuts: c.parts.map((p) => p.length), eof: c.eof, mutations: c.mutations });
      }
    }
    done++;
    if (every > 0 && options.onProgress !== undefined && done % every === 0) {
      options.onProgress({ iteration: done, elapsedMs: Date.now() - started, bytes, outcomes, failures: failures.length });
    }
    if (failures.length >= maxFailures) break;
    if (options.deadlineMs !== undefined && Date.now() > options.deadlineMs) break;
  }
  return { iterations: done, bytes, outcomes, failures };
}

/**
 * A one-paragraph description of a failure, with the input as hex (for a bug report or a replay).
 * @param {Failure} f
 * @returns {string}
 */
export function describeFailure(f) {
  return [
    `${f.kind} (${f.role} role) at seed ${f.seed} iteration ${f.iteration}: ${f.message.split('\n')[0] ?? ''}`,
    `  mutations: ${f.mutations.join('; ')}`,
    `  chunks: ${f.cuts.join(',')}${f.eof ? ' + EOF' : ''}`,
    `  input (${f.input.length} bytes): ${toHex(f.input)}`,
    `  replay: node scripts/fuzz.mjs --seed ${f.seed} --replay ${f.iteration}`,
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------
// Bounded buffering

/**
 * @typedef {object} BufferingCheck
 * @property {string} name
 * @property {'server' | 'client'} role
 * @property {string} expected The error code that must end the input.
 * @property {string} outcome What happened: an error code, or `'ok'`.
 * @property {number} fed Bytes fed before it stopped.
 * @property {number} limit Most bytes it may take before stopping.
 * @property {number} retained Bytes the connection still holds at the end (trailingData).
 */

const MIB = 1024 * 1024;
const PIECE = 4096;

/**
 * Feed a prefix and then a megabyte of `filler` to a connection, 4 KiB at a time, reading
 * after each piece; report where it stopped.
 * @param {Protocol} protocol
 * @param {'server' | 'client'} role
 * @param {string} prefix
 * @param {string} filler repeated up to 1 MiB
 * @returns {{ outcome: string; fed: number; retained: number }}
 */
function flood(protocol, role, prefix, filler) {
  const { Connection, RemoteProtocolError } = protocol;
  const conn = new Connection(role);
  if (role === 'client') {
    conn.send({ type: 'request', method: 'GET', target: '/', headers: { Host: 'fuzz.test' } });
    conn.send({ type: 'end-of-message' });
  }
  const piece = latin1(filler.repeat(Math.ceil(PIECE / filler.length)).slice(0, PIECE));
  let fed = 0;
  try {
    const head = latin1(prefix);
    conn.receiveData(head);
    fed += head.length;
    for (;;) {
      for (;;) {
        const e = conn.nextEvent();
        if (e === protocol.NEED_DATA || e === protocol.PAUSED || e.type === 'connection-closed') break;
      }
      if (fed >= MIB) break;
      conn.receiveData(piece.slice());
      fed += piece.length;
    }
  } catch (err) {
    if (err instanceof RemoteProtocolError) return { outcome: err.code, fed, retained: conn.trailingData.data.length };
    throw err;
  }
  return { outcome: 'ok', fed, retained: conn.trailingData.data.length };
}

/**
 * A megabyte that never finishes a line (or a section) must be refused within the head limit,
 * not buffered. Limits are the defaults: 16 KiB per head, 8 KiB per target, 16 KiB of chunk
 * extensions. `limit` allows one 4 KiB piece past the bound (the check runs per piece).
 * @param {Protocol} protocol
 * @returns {BufferingCheck[]}
 */
export function boundedBufferingChecks(protocol) {
  const HEAD = 16 * 1024;
  /** @type {[string, 'server' | 'client', string, string, string, number][]} */
  const plan = [
    ['status line without a line end', 'client', '', 'A', 'H1_HEADERS_TOO_LARGE', HEAD + PIECE],
    ['response field line without a line end', 'client', 'HTTP/1.1 200 OK\r\nX: ', 'a', 'H1_HEADERS_TOO_LARGE', HEAD + PIECE],
    ['request field line without a line end', 'server', 'GET / HTTP/1.1\r\nHost: a\r\nX: ', 'a', 'H1_HEADERS_TOO_LARGE', HEAD + PIECE],
    ['request method without an end', 'server', '', 'A', 'H1_HEADERS_TOO_LARGE', HEAD + PIECE],
    ['request-target without an end (the target limit comes first)', 'server', 'GET /', 'a', 'H1_TARGET_TOO_LONG', 8 * 1024 + 16 + PIECE],
    ['endless short field lines', 'server', 'GET / HTTP/1.1\r\nHost: a\r\n', 'X: y\r\n', 'H1_TOO_MANY_HEADERS', HEAD + PIECE],
    ['trailer section that never ends', 'server', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nT: ', 'v', 'H1_HEADERS_TOO_LARGE', 256 + HEAD + PIECE],
    ['chunk-size line without a line end', 'server', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;', 'x', 'H1_CHUNK_EXTENSIONS_TOO_LARGE', 256 + HEAD + PIECE],
    ['chunk-size of endless zeros', 'server', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n', '0', 'H1_CHUNK_EXTENSIONS_TOO_LARGE', 256 + HEAD + PIECE],
    ['empty lines before a start line (skipped, not kept)', 'server', '', '\r\n', 'ok', MIB],
  ];
  return plan.map(([name, role, prefix, filler, expected, limit]) => {
    const r = flood(protocol, role, prefix, filler);
    return { name, role, expected, outcome: r.outcome, fed: r.fed, limit, retained: r.retained };
  });
}
