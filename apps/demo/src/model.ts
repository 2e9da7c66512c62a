/**
 * Theory of operation: what each strategy should take, from first principles — a closed-form
 * account of the link and the strategy, written without looking at netem's code or timings, so
 * that a gap between model and measurement means one of them is wrong (an extra round trip, a
 * Nagle stall, a pipelining break) and never that one was fitted to the other.
 *
 * The link (R = round-trip time, B = bandwidth, W₀ = initial congestion window):
 * - a new connection's first request byte reaches the server 1.5 R after `connect()`: one R of
 *   handshake, then R/2 of propagation; a request on an open connection reaches it after R/2;
 * - the server answers at once; its bytes leave at the connection's share of B and arrive R/2
 *   later;
 * - slow start: at most `cwnd` bytes are unacknowledged, an acknowledgement returns R after its
 *   byte left, and each acknowledged byte grows `cwnd` by one. So a fresh window W delivers W,
 *   2W, 4W … per round of R until a round's window fills the pipe (W ≥ rate × R); from then on
 *   the rest flows at the full rate. A reused connection keeps its grown window (W₀ + bytes sent).
 * - connections transferring at the same time share B equally.
 * Requests are small and go upstream unhindered.
 *
 * The machine's own work — client, relay and server handling a request, and opening a connection
 * through the relay — is not derived: it is a parameter, measured on the run's own machine
 * (`requestMs`, `connectMs`; 0 when not given). Each exchange adds `requestMs` before its response
 * starts to leave the server, each new connection `connectMs` more. It matters where the network
 * costs little (RTT 0: a serial page pays it once per object).
 *
 * The strategies (the HTML document always comes first, on a fresh connection, since the
 * objects are known only once it has arrived):
 * - serial: a new connection per object, one after another;
 * - parallel: a new connection per object, up to `connections` at once (each object takes the
 *   first connection slot that frees up);
 * - persistent: every object in turn on the document's connection;
 * - pipelined: every object requested at once on the document's connection: one batch;
 * - pooled: `connections` persistent connections (the document's and new ones), each object
 *   taking the first connection that frees up;
 * - pooled + pipelined: `connections` connections, objects dealt round-robin; each connection
 *   sends its first object alone (a new connection is not pipelined on before it has shown that
 *   it persists), then the rest of its share as one batch;
 * - multiplexed (HTTP/2): like pipelined — one connection, one batch — but the responses share
 *   the connection instead of following one another (see `interleavedMarks`); a reference only.
 */

/** The strategies, in the order the demo shows them. */
export const STRATEGY_NAMES = ['serial', 'parallel', 'persistent', 'pipelined', 'pooled', 'pooled-pipelined', 'multiplexed'] as const;

/** A connection strategy. */
export type StrategyName = (typeof STRATEGY_NAMES)[number];

/** The scenario the model predicts. */
export interface Scenario {
  /** Round-trip time, ms. */
  readonly rttMs: number;
  /** Bytes per second (Infinity: unlimited). */
  readonly bandwidth: number;
  /** Initial congestion window, bytes (Infinity: no slow start). */
  readonly initialWindow: number;
  /** Connections of the parallel and pooled strategies. */
  readonly connections: number;
  readonly htmlBytes: number;
  /** Object sizes in document order. */
  readonly objectBytes: readonly number[];
  /** One object the server answers `delayMs` late (its think time). */
  readonly slow?: { readonly index: number; readonly delayMs: number };
  /** The machine's work per request/response exchange (or pipelined batch), ms. Default 0. */
  readonly requestMs?: number;
  /** The machine's extra work per new connection, ms. Default 0. */
  readonly connectMs?: number;
}

/** What the model predicts for one strategy. */
export interface Prediction {
  readonly totalMs: number;
  /** When the first object is complete. */
  readonly firstObjectMs: number;
  /** When each object is complete, in document order. */
  readonly objectEndMs: readonly number[];
  readonly connections: number;
  readonly handshakes: number;
  /** Requests carried by each connection. */
  readonly requestsPerConnection: readonly number[];
}

/** The transfer of one response: ms from the server's first byte out to the last byte in, and the window after. */
export function transfer(bytes: number, cwnd: number, rate: number, rttMs: number): { ms: number; cwnd: number } {
  const oneWay = rttMs / 2;
  if (bytes <= 0) return { ms: oneWay, cwnd };
  let remaining = bytes;
  let window = cwnd;
  let t = 0;
  for (;;) {
    // The window fills the pipe: the rest streams at the full rate.
    if (window >= rate * rttMs) {
      t += remaining / rate;
      break;
    }
    const sent = Math.min(window, remaining);
    remaining -= sent;
    if (remaining === 0) {
      t += sent / rate;
      break;
    }
    // This round's acknowledgements start returning one RTT after it began; each doubles its byte.
    t += rttMs;
    window += sent;
  }
  return { ms: t + oneWay, cwnd: cwnd + bytes };
}

/**
 * One response (or a batch of pipelined responses) on the link: it starts leaving the server at
 * `start`, `bytes` long, with the connection's window `cwnd0`; `marks` are the byte counts (of
 * the batch) at which each response of the batch ends, in any order.
 */
interface FlowSpec {
  readonly start: number;
  readonly bytes: number;
  readonly cwnd0: number;
  readonly marks: readonly number[];
  /** Called with the time each mark's last byte left the server, in the order of `marks`. */
  readonly onDone: (markTimes: readonly number[]) => void;
}

interface Flow extends FlowSpec {
  sent: number;
  /** Bytes sent by the end of each step since `start` (acknowledged one RTT later). */
  readonly history: number[];
  readonly markTimes: (number | undefined)[];
}

/** Time step of the shared-bandwidth computation, ms. */
export const STEP_MS = 0.05;

/**
 * The link shared by concurrent responses, computed in small steps: in each step the bandwidth is
 * divided equally among the responses that may send (water-filling: what one cannot use goes to
 * the others); a response may send while `sent ≤ cwnd0 + 2 × acked`, where `acked` is what it had
 * sent one RTT earlier (each acknowledged byte frees its place and grows the window by one:
 * slow start). A response alone on the link follows `transfer()` up to the step size.
 */
class SharedLink {
  readonly #rate: number;
  readonly #rttSteps: number;
  readonly #flows: Flow[] = [];
  #t = 0;

  constructor(rate: number, rttMs: number) {
    this.#rate = rate;
    this.#rttSteps = Math.round(rttMs / STEP_MS);
  }

  add(spec: FlowSpec): void {
    this.#flows.push({ ...spec, sent: 0, history: [], markTimes: [] });
  }

  /** Run until every response (including those added on the way) has left the server. */
  run(): void {
    // Bounded: a page of any size finishes long before this many steps (10 simulated hours).
    for (let steps = 0; this.#flows.length > 0 && steps < 720_000_000; steps++) {
      const t = this.#t;
      const active = this.#flows.filter((f) => f.start <= t + 1e-9);
      if (active.length === 0) {
        this.#t = Math.min(...this.#flows.map((f) => f.start));
        continue;
      }
      const limits = active.map((f) => {
        const back = f.history.length - this.#rttSteps;
        const acked = this.#rttSteps === 0 ? f.sent : back > 0 ? f.history[back - 1]! : 0;
        return Math.max(0, Math.min(f.bytes - f.sent, f.cwnd0 + 2 * acked - f.sent));
      });
      let capacity = this.#rate * STEP_MS;
      const give = new Array<number>(active.length).fill(0);
      let open = active.map((_, i) => i).filter((i) => limits[i]! > 0);
      while (open.length > 0 && capacity > 1e-9) {
        const share = capacity / open.length;
        const next: number[] = [];
        for (const i of open) {
          const take = Math.min(share, limits[i]! - give[i]!);
          give[i] = give[i]! + take;
          capacity -= take;
          if (limits[i]! - give[i] > 1e-9) next.push(i);
        }
        if (next.length === open.length) break;
        open = next;
      }
      const end = t + STEP_MS;
      active.forEach((f, i) => {
        const before = f.sent;
        f.sent += give[i]!;
        f.history.push(f.sent);
        const pace = give[i]! / STEP_MS;
        f.marks.forEach((m, j) => {
          if (before < m - 1e-6 && f.sent >= m - 1e-6) f.markTimes[j] = Number.isFinite(pace) && pace > 0 ? t + (m - before) / pace : t;
        });
      });
      this.#t = end;
      for (const f of active) {
        if (f.sent < f.bytes - 1e-6) continue;
        this.#flows.splice(this.#flows.indexOf(f), 1);
        f.onDone(f.marks.map((_, j) => f.markTimes[j] ?? end));
      }
    }
  }
}

/** Where each response of an HTTP/1.1 batch ends: one after another, in request order. */
export function inOrderMarks(sizes: readonly number[]): number[] {
  let total = 0;
  return sizes.map((size) => (total += size));
}

/** HTTP/2's default largest frame payload, bytes (RFC 9113 §6.5.2, SETTINGS_MAX_FRAME_SIZE). */
export const H2_FRAME_BYTES = 16_384;

/**
 * Where each response of a multiplexed batch ends. An HTTP/2 server sends the DATA frames of
 * streams of equal weight in turn (RFC 9113 §5.3; nghttp2, which node:http2 uses, round-robins
 * them frame by frame): each turn, every stream still sending sends one frame of at most
 * `frameBytes`, in the order the requests came. So responses that fit in one frame end in the
 * first turn, in request order, and larger ones interleave and end later; the last ends when
 * the whole batch has been sent, as in order.
 */
export function interleavedMarks(sizes: readonly number[], frameBytes = H2_FRAME_BYTES): number[] {
  const left = [...sizes];
  const marks = sizes.map(() => 0);
  let sent = 0;
  // Bounded: each turn sends a frame of every stream still sending.
  for (let active = left.filter((b) => b > 0).length; active > 0; active = left.filter((b) => b > 0).length) {
    left.forEach((b, i) => {
      if (b <= 0) return;
      const frame = Math.min(frameBytes, b);
      left[i] = b - frame;
      sent += frame;
      if (left[i] === 0) marks[i] = sent;
    });
  }
  return marks;
}

/** A connection: when it is free at the client, its window, the requests it carried. */
interface Lane {
  free: number;
  cwnd: number;
  requests: number;
  fresh: boolean;
}

/** Predict `strategy` on `scenario`. */
export function predict(strategy: StrategyName, s: Scenario): Prediction {
  const R = s.rttMs;
  const rate = s.bandwidth / 1000; // bytes per ms
  const W0 = s.initialWindow;
  const requestMs = s.requestMs ?? 0;
  const connectMs = s.connectMs ?? 0;
  const n = s.objectBytes.length;
  const k = Math.max(1, Math.min(s.connections, n));
  const ends: number[] = new Array<number>(n).fill(0);
  const link = new SharedLink(rate, R);
  const lanes: Lane[] = [];
  let htmlEnd = 0;
  const newLane = (): Lane => {
    const lane = { free: 0, cwnd: W0, requests: 0, fresh: true };
    lanes.push(lane);
    return lane;
  };

  /**
   * Request `items` (object indexes; -1 the document) as one batch on `lane`, issued at the client
   * at `issued`; `then` gets the time the last response is complete at the client.
   */
  const slowMs = s.slow?.delayMs ?? 0;
  const slowAt = slowMs > 0 ? (s.slow?.index ?? -2) : -2;
  /** Responses `items` leaving the server back to back from `ready` on (never before `after`). */
  const respond = (lane: Lane, ready: number, items: readonly number[], then: (doneAt: number) => void, interleaved = false): void => {
    // HTTP/1.1 answers in order: a response the server is late with holds back those behind it.
    const cut = items.indexOf(slowAt);
    const now = cut > 0 ? items.slice(0, cut) : items;
    const later = cut > 0 ? items.slice(cut) : [];
    const start = cut === 0 ? ready + slowMs : ready;
    const sizes = now.map((i) => (i < 0 ? s.htmlBytes : s.objectBytes[i]!));
    const total = sizes.reduce((a, b) => a + b, 0);
    const marks = interleaved ? interleavedMarks(sizes) : inOrderMarks(sizes);
    const cwnd0 = lane.cwnd;
    link.add({
      start,
      bytes: total,
      cwnd0,
      marks,
      onDone: (times) => {
        now.forEach((i, j) => {
          const at = times[j]! + R / 2;
          if (i < 0) htmlEnd = at;
          else ends[i] = at;
        });
        lane.cwnd = cwnd0 + total;
        if (later.length > 0) {
          respond(lane, Math.max(Math.max(...times), ready + slowMs), later, then);
          return;
        }
        lane.free = Math.max(...times) + R / 2;
        then(lane.free);
      },
    });
  };
  const send = (lane: Lane, issued: number, items: readonly number[], then: (doneAt: number) => void, interleaved = false): void => {
    const fresh = lane.fresh;
    lane.fresh = false;
    lane.requests += items.length;
    // A new connection: one RTT of handshake, then the request's half RTT; and the machine's work.
    respond(lane, issued + (fresh ? 1.5 * R + connectMs : R / 2) + requestMs, items, then, interleaved);
  };

  const objects = Array.from({ length: n }, (_, i) => i);
  const first = newLane();
  send(first, 0, [-1], (docAt) => {
    switch (strategy) {
      case 'serial': {
        const next = (j: number, at: number): void => {
          if (j < n) send(newLane(), at, [j], (done) => next(j + 1, done));
        };
        next(0, docAt);
        break;
      }
      case 'persistent': {
        const next = (j: number, at: number): void => {
          if (j < n) send(first, at, [j], (done) => next(j + 1, done));
        };
        next(0, docAt);
        break;
      }
      case 'pipelined':
        if (n > 0) send(first, docAt, objects, () => undefined);
        break;
      case 'multiplexed': {
        // Streams are independent: a late response does not hold back the others (they share
        // the connection's window and the link).
        const prompt = objects.filter((i) => i !== slowAt);
        if (prompt.length > 0) send(first, docAt, prompt, () => undefined, true);
        if (prompt.length < n) {
          first.requests++;
          respond({ ...first }, docAt + R / 2 + requestMs, [slowAt], () => undefined);
        }
        break;
      }
      case 'parallel':
      case 'pooled': {
        const reuse = strategy === 'pooled';
        const queue = [...objects];
        const take = (lane: Lane, at: number): void => {
          const j = queue.shift();
          if (j === undefined) return;
          // Without reuse, each object needs a connection of its own, in this slot.
          send(reuse ? lane : newLane(), at, [j], (done) => take(lane, done));
        };
        const slots: Lane[] = reuse ? [first, ...Array.from({ length: k - 1 }, newLane)] : Array.from({ length: k }, () => ({ free: 0, cwnd: W0, requests: 0, fresh: true }));
        for (const lane of slots) take(lane, docAt);
        break;
      }
      case 'pooled-pipelined': {
        const others = Array.from({ length: k - 1 }, newLane);
        const share = (lane: number): number[] => objects.filter((i) => i % k === lane);
        if (share(0).length > 0) send(first, docAt, share(0), () => undefined);
        others.forEach((lane, idx) => {
          const mine = share(idx + 1);
          if (mine.length === 0) return;
          // A new connection carries one request before it is known to persist; then the rest.
          send(lane, docAt, mine.slice(0, 1), (done) => {
            if (mine.length > 1) send(lane, done, mine.slice(1), () => undefined);
          });
        });
        break;
      }
    }
  });
  link.run();

  const used = lanes.filter((l) => l.requests > 0);
  const totalMs = n === 0 ? htmlEnd : Math.max(...ends);
  return {
    totalMs,
    firstObjectMs: n === 0 ? htmlEnd : Math.min(...ends),
    objectEndMs: ends,
    connections: used.length,
    handshakes: used.length,
    requestsPerConnection: used.map((l) => l.requests),
  };
}
