/**
 * Theory of operation: one client connection relayed to its target through the link model.
 *
 * ```
 *  client ──► [client socket] ──► up flow (upstream scheduler) ──► [server socket] ──► target
 *  client ◄── [client socket] ◄── down flow (downstream scheduler) ◄── [server socket] ◄── target
 * ```
 *
 * Handshake: a loopback `connect()` completes at once, so the handshake's cost is charged to
 * the data instead. On accept (model time t0) the relay connects to the target right away,
 * but the up flow may not send before t0 + rtt (the client's SYN and the SYN-ACK), so the
 * client's first byte reaches the target at t0 + 1.5 rtt, as on a real path; the down flow
 * may not send before t0 + 1.5 rtt (when the target would have seen the final ACK).
 *
 * Closing, each side seen from the relay:
 * - `'end'` (FIN): the flow away from that socket finishes; its FIN is delivered after its data.
 *   Both relay sockets allow half-open connections, so the other direction carries on.
 * - `'close'` without a FIN, or with an error (RST, refused connect): an abort. The flow away
 *   from it carries a reset (delivered after what is in flight, and for a refused connect no
 *   earlier than t0 + rtt, when the RST answering the SYN would arrive); the flow towards it
 *   is dropped. A reset is passed on with `resetAndDestroy()`, so the peer sees ECONNRESET.
 * - A socket the relay itself destroyed (a reset passed on, a toxic, `close()`) is not an abort.
 *   A reset is carried out 1 ms after the bytes before it (`RESET_GAP_MS`): libuv turns a RST
 *   that arrives together with unread data into a plain end of stream.
 * The connection is over when both sockets have closed.
 *
 * Backpressure: reading a socket pauses while the bytes the relay holds for its flow (unsent,
 * or delivered but held by a toxic, plus what the other socket has not flushed) exceed the
 * high-water mark, and resumes below half of it, so memory per connection stays bounded.
 */

import net from 'node:net';

import type { Flow, Output } from './flow.js';
import type { Direction, ResolvedLinkOptions } from './options.js';
import type { Scheduler } from './scheduler.js';
import type { ConnectionEnd, ConnectionStats, Target } from './stats.js';
import type { Toxic } from './toxics.js';

/**
 * Ms between the last bytes written to a socket and a reset of it: one event-loop turn, so the
 * receiver reads the bytes before the RST arrives (see `#kill`).
 */
export const RESET_GAP_MS = 1;

/** What a relayed connection needs from its link. */
export interface RelayContext {
  readonly options: ResolvedLinkOptions;
  readonly up: Scheduler<RelayConnection>;
  readonly down: Scheduler<RelayConnection>;
  /** Run the model up to now, carry out its outputs, re-arm the timer. @returns the model time now. */
  run(): number;
  /** The relay's connection to a target completed. */
  onHandshake(): void;
  /** Bytes were written to a receiving socket. */
  onDelivered(direction: Direction, bytes: number): void;
  /** A connection paused or resumed reading one of its sockets. */
  onPausedChange(connection: RelayConnection, paused: boolean): void;
  /** Both sockets of a connection have closed. */
  onClosed(connection: RelayConnection): void;
}

type Side = 'client' | 'server';

/** Per-socket state. */
class End {
  /** The peer's FIN arrived. */
  ended = false;
  closed = false;
  /** The relay destroyed it (so its close is not an abort by the peer). */
  killed = false;
  paused = false;
  constructor(readonly socket: net.Socket) {}
}

/** One relayed connection. Created by the link for each accepted client socket. */
export class RelayConnection {
  /** Link-wide sequence number, from 1. */
  readonly id: number;
  /** Port of the forward that accepted it. */
  readonly listenPort: number;
  /** Port of the client's socket (0 if it was gone before it could be read). */
  readonly clientPort: number;
  /** Where it is relayed to. */
  readonly target: Required<Target>;
  /** The toxics applied to it. */
  readonly toxics: readonly Toxic[];
  readonly #ctx: RelayContext;
  readonly #client: End;
  readonly #server: End;
  readonly #up: Flow<RelayConnection>;
  readonly #down: Flow<RelayConnection>;
  readonly #openedAt: number;
  #connectedAt: number | undefined;
  #closedAt: number | undefined;
  #end: ConnectionEnd | undefined;
  readonly #closed: Promise<void>;
  #resolveClosed: () => void = () => undefined;

  constructor(ctx: RelayContext, client: net.Socket, target: Required<Target>, listenPort: number, id: number, toxics: readonly Toxic[]) {
    this.#ctx = ctx;
    this.id = id;
    this.listenPort = listenPort;
    this.clientPort = client.remotePort ?? 0;
    this.target = target;
    this.toxics = toxics;
    this.#closed = new Promise((resolve) => (this.#resolveClosed = resolve));

    const { rtt } = ctx.options;
    const t0 = ctx.run();
    this.#openedAt = t0;
    this.#up = ctx.up.open(this, t0 + rtt, toxics); // the client sends once the SYN-ACK is back
    this.#down = ctx.down.open(this, t0 + 1.5 * rtt, toxics); // the target sends once the ACK is in

    client.setNoDelay(true);
    const server = net.connect({ host: target.host, port: target.port, allowHalfOpen: true, noDelay: true });
    this.#client = new End(client);
    this.#server = new End(server);

    server.once('connect', () => {
      this.#connectedAt = performance.now();
      ctx.onHandshake();
    });
    this.#wire('client', this.#client, this.#up, this.#down);
    this.#wire('server', this.#server, this.#down, this.#up);
  }

  /**
   * Listen to one socket. `from` is the flow it feeds, `to` the flow that writes to it.
   */
  #wire(side: Side, end: End, from: Flow<RelayConnection>, to: Flow<RelayConnection>): void {
    const { socket } = end;
    socket.on('data', (chunk: Buffer) => {
      if (from.finished) return; // a toxic closed the connection: read and drop
      this.#ctx.run();
      from.enqueue(chunk);
      this.flowControl(this.#ctx.run());
    });
    socket.on('end', () => {
      end.ended = true;
      this.#ctx.run();
      from.finish();
      this.#ctx.run();
    });
    socket.on('drain', () => this.flowControl(performance.now()));
    socket.on('error', () => undefined); // the 'close' that follows says what to do
    socket.on('close', (hadError: boolean) => {
      end.closed = true;
      if (end.paused) this.#setPaused(end, false);
      if (!end.killed && (hadError || !end.ended)) {
        // An abort: pass a reset on, after what is in flight.
        const refused = side === 'server' && this.#connectedAt === undefined;
        this.#end ??= refused ? 'connect-failed' : 'reset';
        const t = this.#ctx.run();
        from.reset(t, refused ? this.#openedAt + this.#ctx.options.rtt / 2 : t);
        to.close();
        this.#ctx.run();
      } else {
        to.close(); // nothing more can be written to it
      }
      this.#maybeDone();
    });
  }

  /** Carry out one output of the model. Called by the link; never re-enters it. */
  deliver(direction: Direction, output: Output<RelayConnection>): void {
    const dest = direction === 'upstream' ? this.#server : this.#client;
    const { socket } = dest;
    switch (output.kind) {
      case 'data': {
        if (socket.destroyed || socket.writableEnded) return;
        const [only] = output.chunks;
        if (output.chunks.length === 1 && only !== undefined) {
          socket.write(only);
        } else {
          socket.cork();
          for (const chunk of output.chunks) socket.write(chunk);
          socket.uncork();
        }
        this.#ctx.onDelivered(direction, output.bytes);
        return;
      }
      case 'fin':
        if (!socket.destroyed) socket.end();
        return;
      case 'reset':
        this.#kill(dest, true);
        return;
      case 'toxic':
        this.#up.close();
        this.#down.close();
        if (output.action === 'reset') {
          this.#end ??= 'toxic-reset';
          this.#kill(this.#client, true);
          this.#kill(this.#server, true);
        } else {
          // A graceful close in mid-stream: FIN both ways; what arrives afterwards is read and dropped.
          this.#end ??= 'toxic-close';
          if (!this.#client.socket.destroyed) this.#client.socket.end();
          if (!this.#server.socket.destroyed) this.#server.socket.end();
        }
        return;
    }
  }

  /** Pause or resume reading each socket according to what the relay holds for its flow. */
  flowControl(now: number): void {
    const { highWaterMark } = this.#ctx.options;
    const check = (source: End, flow: Flow<RelayConnection>, dest: End): void => {
      if (source.closed) return;
      const held = flow.finished ? 0 : flow.buffered(now) + dest.socket.writableLength;
      if (!source.paused && held > highWaterMark) this.#setPaused(source, true);
      else if (source.paused && held <= highWaterMark / 2) this.#setPaused(source, false);
    };
    check(this.#client, this.#up, this.#server);
    check(this.#server, this.#down, this.#client);
  }

  #setPaused(end: End, paused: boolean): void {
    end.paused = paused;
    if (!end.closed) {
      if (paused) end.socket.pause();
      else end.socket.resume();
    }
    this.#ctx.onPausedChange(this, this.#client.paused || this.#server.paused);
  }

  /**
   * Destroy a socket on purpose: with a reset (RST) or a plain close. A reset goes
   * {@link RESET_GAP_MS} after the bytes written before it: libuv reports a RST that arrives
   * in the same poll as unread data as an end of stream, so without the gap a Node receiver
   * would see `'end'` instead of ECONNRESET.
   */
  #kill(end: End, reset: boolean): void {
    end.killed = true;
    const { socket } = end;
    if (socket.destroyed) return;
    if (!reset) {
      socket.destroy();
      return;
    }
    setTimeout(() => {
      if (!socket.destroyed) socket.resetAndDestroy();
    }, RESET_GAP_MS);
  }

  /** Destroy both sockets (the link or forward is closing). Resolves once both have closed. */
  destroy(): Promise<void> {
    this.#end ??= 'closed';
    this.#up.close();
    this.#down.close();
    this.#kill(this.#client, false);
    this.#kill(this.#server, false);
    return this.#closed;
  }

  /** Resolves once both sockets have closed. */
  get closed(): Promise<void> {
    return this.#closed;
  }

  #maybeDone(): void {
    if (!this.#client.closed || !this.#server.closed || this.#closedAt !== undefined) return;
    this.#closedAt = performance.now();
    this.#end ??= 'fin';
    this.#up.close();
    this.#down.close();
    this.#ctx.onClosed(this);
    this.#resolveClosed();
  }

  /** A snapshot of this connection's counters. */
  stats(): ConnectionStats {
    return {
      id: this.id,
      listenPort: this.listenPort,
      clientPort: this.clientPort,
      target: this.target,
      state: this.#closedAt === undefined ? 'open' : 'closed',
      openedAt: this.#openedAt,
      establishedAt: this.#openedAt + this.#ctx.options.rtt,
      connectedAt: this.#connectedAt,
      closedAt: this.#closedAt,
      end: this.#end,
      toxics: this.toxics,
      upstream: this.#up.counters(),
      downstream: this.#down.counters(),
    };
  }
}
