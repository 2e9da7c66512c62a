/**
 * Theory of operation: a link is a modelled network path shared by every connection relayed
 * through it, in two independent directions (a {@link Scheduler} each: bandwidth, propagation,
 * congestion windows, toxics), and the relay's I/O around them: listening forwards, relayed
 * connections, one timer, and the counters.
 *
 * The I/O loop: whenever something happens — bytes or a FIN read from a socket, a socket
 * closing, the timer — the link runs the model up to `performance.now()`, carries out every
 * output it produces (writes, FINs, resets) and arms a single timer for the model's next
 * event. Outputs are therefore late by the timer's lateness (about 1 ms, more under load) but
 * never early, and lateness never accumulates, because the model computes each event from the
 * model times before it (see scheduler.ts). The timer re-checks the clock when it fires, since
 * Node may fire a timer up to a loop iteration early relative to `performance.now()`.
 */

import net from 'node:net';

import { NetemError } from './errors.js';
import { Forward } from './forward.js';
import type { ForwardOptions } from './forward.js';
import type { Output } from './flow.js';
import { resolveLinkOptions } from './options.js';
import type { Direction, LinkOptions, ResolvedLinkOptions } from './options.js';
import { RelayConnection } from './relay-connection.js';
import type { RelayContext } from './relay-connection.js';
import { Scheduler } from './scheduler.js';
import { MAX_CLOSED_CONNECTION_STATS } from './stats.js';
import type { ConnectionStats, LinkStats, Target } from './stats.js';
import { resolveToxic, resolveToxics, ToxicSet } from './toxics.js';
import type { Toxic } from './toxics.js';
import { byteCount, show } from './validate.js';

/**
 * Create a link: a modelled network path between the clients of its forwards and their targets.
 *
 * @example
 * ```ts
 * const link = await createLink({ rtt: 50, bandwidth: 10e6 / 8, initialWindow: 10 * 1460 });
 * const { port } = await link.forward({ host: '127.0.0.1', port: serverPort });
 * // connect to 127.0.0.1:port instead of serverPort
 * await link.close();
 * ```
 * @throws RangeError naming the option when an option is invalid.
 */
// eslint-disable-next-line @typescript-eslint/require-await -- async so that invalid options reject like every other failure
export async function createLink(options: LinkOptions = {}): Promise<Link> {
  return new Link(resolveLinkOptions(options));
}

/** A modelled network path: see {@link createLink}. */
export class Link {
  /** The settings in force, every default filled in. */
  readonly options: ResolvedLinkOptions;
  readonly #up: Scheduler<RelayConnection>;
  readonly #down: Scheduler<RelayConnection>;
  readonly #context: RelayContext;
  readonly #toxics: ToxicSet;
  readonly #forwards = new Set<Forward>();
  readonly #connections = new Set<RelayConnection>();
  readonly #paused = new Set<RelayConnection>();
  readonly #closedStats: ConnectionStats[] = [];
  #nextId = 1;
  #opened = 0;
  #closedCount = 0;
  #handshakes = 0;
  #bytesUp = 0;
  #bytesDown = 0;
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Number.POSITIVE_INFINITY;
  #running = false;
  #runAgain = false;
  #closing: Promise<void> | undefined;

  /** @internal Use {@link createLink}. */
  constructor(options: ResolvedLinkOptions) {
    this.options = options;
    const start = performance.now();
    const common = {
      rtt: options.rtt,
      mss: options.mss,
      initialWindow: options.initialWindow,
      maxWindow: options.maxWindow,
      restartAfter: options.slowStartAfterIdle ? options.rto : Number.POSITIVE_INFINITY,
      start,
    };
    this.#up = new Scheduler({ ...common, direction: 'upstream', bandwidth: options.bandwidth.upstream });
    this.#down = new Scheduler({ ...common, direction: 'downstream', bandwidth: options.bandwidth.downstream });
    this.#toxics = new ToxicSet(options.toxics);
    this.#context = {
      options,
      up: this.#up,
      down: this.#down,
      run: () => this.#run(),
      onHandshake: () => {
        this.#handshakes += 1;
      },
      onDelivered: (direction: Direction, bytes: number) => {
        if (direction === 'upstream') this.#bytesUp += bytes;
        else this.#bytesDown += bytes;
      },
      onPausedChange: (connection: RelayConnection, paused: boolean) => {
        if (paused) this.#paused.add(connection);
        else this.#paused.delete(connection);
      },
      onClosed: (connection: RelayConnection) => {
        this.#connections.delete(connection);
        this.#paused.delete(connection);
        this.#closedCount += 1;
        this.#closedStats.push(connection.stats());
        if (this.#closedStats.length > MAX_CLOSED_CONNECTION_STATS) this.#closedStats.shift();
      },
    };
  }

  /**
   * Listen on `127.0.0.1` (port 0 unless given) and relay each accepted connection to `target`
   * through this link. A link may forward several targets; all share its bandwidth.
   *
   * @throws RangeError when the target or an option is invalid; NetemError `NETEM_LINK_CLOSED`
   *   after `close()`; the listen error (e.g. EADDRINUSE).
   */
  async forward(target: Target, options: ForwardOptions = {}): Promise<Forward> {
    if (this.#closing !== undefined) throw new NetemError('NETEM_LINK_CLOSED');
    const resolvedTarget = {
      host: hostOf('target.host', target.host),
      port: byteCount('target.port', target.port, 0, 1, false),
    };
    if (resolvedTarget.port > 65_535) throw new RangeError(`target.port must be ≤ 65535, got ${resolvedTarget.port}`);
    const listenPort = byteCount('port', options.port, 0, 0, false);
    if (listenPort > 65_535) throw new RangeError(`port must be ≤ 65535, got ${listenPort}`);
    const listenHost = hostOf('host', options.host);
    const toxics = resolveToxics('toxics', options.toxics);

    const server = net.createServer({ allowHalfOpen: true, noDelay: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(listenPort, listenHost, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const { port } = server.address() as net.AddressInfo;
    const forward = new Forward(server, listenHost, port, resolvedTarget, toxics);
    server.on('connection', (socket) => this.#accept(socket, forward));
    server.on('error', () => undefined); // accept errors (EMFILE…) drop that one connection
    if (this.#closing !== undefined) {
      await forward.close();
      throw new NetemError('NETEM_LINK_CLOSED');
    }
    this.#forwards.add(forward);
    return forward;
  }

  #accept(socket: net.Socket, forward: Forward): void {
    if (this.#closing !== undefined || forward.closing) {
      socket.destroy();
      return;
    }
    const toxics = [...this.#toxics.take(), ...forward.takeToxics()];
    const connection = new RelayConnection(this.#context, socket, forward.target, forward.port, this.#nextId, toxics);
    this.#nextId += 1;
    this.#opened += 1;
    this.#connections.add(connection);
    forward.adopt(connection);
  }

  /**
   * Add a toxic for every connection accepted from now on, by any forward of this link.
   *
   * @returns a function that removes it again (for later connections).
   * @throws RangeError when the toxic is invalid; NetemError `NETEM_LINK_CLOSED` after `close()`.
   */
  addToxic(toxic: Toxic): () => void {
    if (this.#closing !== undefined) throw new NetemError('NETEM_LINK_CLOSED');
    return this.#toxics.add(resolveToxic('toxic', toxic));
  }

  /** The link-wide toxics still in force (with defaults filled in). */
  get toxics(): readonly Toxic[] {
    return this.#toxics.list();
  }

  /** The link's counters and a snapshot of every open and recently closed connection. */
  stats(): LinkStats {
    const open = [...this.#connections].map((c) => c.stats());
    return {
      connections: { opened: this.#opened, open: this.#connections.size, closed: this.#closedCount },
      handshakes: this.#handshakes,
      bytes: { upstream: this.#bytesUp, downstream: this.#bytesDown },
      perConnection: [...this.#closedStats, ...open].sort((a, b) => a.id - b.id),
    };
  }

  /** Stop listening on every forward and destroy every relayed connection. Resolves when all are gone. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await Promise.all([...this.#forwards].map((f) => f.close()));
      await Promise.all([...this.#connections].map((c) => c.destroy()));
      clearTimeout(this.#timer);
      this.#timer = undefined;
    })();
    return this.#closing;
  }

  /** Run the model to now, carry out its outputs, arm the timer. @returns the model time reached. */
  #run(): number {
    if (this.#running) {
      this.#runAgain = true; // called from inside an output (not expected): run once more afterwards
      return this.#up.time;
    }
    this.#running = true;
    let now = performance.now();
    let next = Number.POSITIVE_INFINITY;
    try {
      for (let pass = 0; pass < 100; pass += 1) {
        this.#runAgain = false;
        now = Math.max(performance.now(), this.#up.time, this.#down.time);
        const up: Output<RelayConnection>[] = [];
        const down: Output<RelayConnection>[] = [];
        next = Math.min(this.#up.advance(now, up), this.#down.advance(now, down));
        const touched = new Set<RelayConnection>(this.#paused);
        for (const o of up) {
          o.tag.deliver('upstream', o);
          touched.add(o.tag);
        }
        for (const o of down) {
          o.tag.deliver('downstream', o);
          touched.add(o.tag);
        }
        for (const c of touched) c.flowControl(now);
        if (!this.#runAgain) break;
      }
    } finally {
      this.#running = false;
    }
    this.#arm(next);
    return now;
  }

  /** One timer for the earliest model event; an earlier timer already armed is kept. */
  #arm(next: number): void {
    if (next === Number.POSITIVE_INFINITY || (this.#closing !== undefined && this.#connections.size === 0)) return;
    if (this.#timer !== undefined && this.#timerAt <= next) return;
    clearTimeout(this.#timer);
    this.#timerAt = next;
    // Node timers take whole ms and fire no earlier than 1 ms; a timer that fires early finds
    // nothing due and re-arms itself.
    const delay = Math.max(1, Math.ceil(next - performance.now()));
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#timerAt = Number.POSITIVE_INFINITY;
      this.#run();
    }, delay);
  }
}

function hostOf(name: string, value: unknown): string {
  if (value === undefined) return '127.0.0.1';
  if (typeof value === 'string' && value.length > 0) return value;
  throw new RangeError(`${name} must be a non-empty string, got ${show(value)}`);
}
