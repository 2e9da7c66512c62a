/**
 * Theory of operation: one listening socket of a link. Each connection it accepts becomes a
 * {@link RelayConnection} to its target, created by the link (so that every forward of a link
 * shares the link's bandwidth). A forward has its own toxics, added to the link's for the
 * connections it accepts. Closing it stops listening and destroys its connections.
 */

import type net from 'node:net';

import { NetemError } from './errors.js';
import type { RelayConnection } from './relay-connection.js';
import type { Target } from './stats.js';
import { resolveToxic, ToxicSet } from './toxics.js';
import type { Toxic } from './toxics.js';

/** Options of {@link Link.forward}. */
export interface ForwardOptions {
  /** Port to listen on. Default 0 (any free port). */
  readonly port?: number;
  /** Address to listen on. Default `'127.0.0.1'`. */
  readonly host?: string;
  /** Faults for the connections of this forward only, in addition to the link's. */
  readonly toxics?: readonly Toxic[];
}

/** Creates the relay for an accepted socket (the link's part). */
export type AcceptConnection = (socket: net.Socket, forward: Forward) => RelayConnection | undefined;

/** A listening port of a link that relays each connection to one target. */
export class Forward {
  /** The address it listens on. */
  readonly host: string;
  /** The port it listens on (the one chosen when 0 was asked). */
  readonly port: number;
  /** Where it relays to. */
  readonly target: Required<Target>;
  readonly #server: net.Server;
  readonly #toxics: ToxicSet;
  readonly #connections = new Set<RelayConnection>();
  #closing: Promise<void> | undefined;

  /** @internal Use {@link Link.forward}. */
  constructor(server: net.Server, host: string, port: number, target: Required<Target>, toxics: readonly Toxic[]) {
    this.#server = server;
    this.host = host;
    this.port = port;
    this.target = target;
    this.#toxics = new ToxicSet(toxics);
  }

  /** @internal Register a connection this forward accepted. */
  adopt(connection: RelayConnection): void {
    this.#connections.add(connection);
    void connection.closed.then(() => this.#connections.delete(connection));
  }

  /** @internal The forward's toxics for one new connection. */
  takeToxics(): Toxic[] {
    return this.#toxics.take();
  }

  /**
   * Add a toxic for the connections this forward accepts from now on.
   *
   * @returns a function that removes it again (for later connections).
   * @throws RangeError when the toxic is invalid; NetemError `NETEM_FORWARD_CLOSED` after `close()`.
   */
  addToxic(toxic: Toxic): () => void {
    if (this.#closing !== undefined) throw new NetemError('NETEM_FORWARD_CLOSED');
    return this.#toxics.add(resolveToxic('toxic', toxic));
  }

  /** Connections of this forward still open. */
  get connections(): number {
    return this.#connections.size;
  }

  /** Stop listening and destroy this forward's connections. Resolves when all are closed. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= Promise.all([
      new Promise<void>((resolve) => this.#server.close(() => resolve())),
      ...[...this.#connections].map((c) => c.destroy()),
    ]).then(() => undefined);
    return this.#closing;
  }

  /** Whether `close()` has been called. */
  get closing(): boolean {
    return this.#closing !== undefined;
  }
}
