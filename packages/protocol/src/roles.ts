/**
 * Theory of operation: what differs between the two ends of an HTTP/1.1 connection, as one value
 * per role (after hyper's `proto/h1/role.rs`), so that Connection asks its role what it does —
 * "does this end receive requests?" — instead of testing which end it is.
 */

import type { RemoteErrorCode, RemoteProtocolError } from './errors.js';
import type { Role } from './state.js';

/** The behaviour of one end of a connection. */
export interface RoleSpec {
  readonly name: Role;
  /** The other end. */
  readonly peer: Role;
  /** What this end parses: requests (a server) or responses (a client). */
  readonly receives: 'request' | 'response';
  /** What this end serializes. */
  readonly sends: 'request' | 'response';
  /** The status a receive error carries: a server answers the catalog's; a client relays 502. */
  errorStatus(err: RemoteProtocolError): number;
  /** The error for an event the peer may not send in its state. */
  readonly outOfTurn: RemoteErrorCode;
}

/** The client: sends requests, receives responses. */
export const CLIENT_ROLE: RoleSpec = {
  name: 'client',
  peer: 'server',
  receives: 'response',
  sends: 'request',
  // RFC 9110 §15.6.3: a response that cannot be used is a 502 for whoever relays it.
  errorStatus: () => 502,
  outOfTurn: 'H1_UNSOLICITED_RESPONSE',
};

/** The server: receives requests, sends responses. */
export const SERVER_ROLE: RoleSpec = {
  name: 'server',
  peer: 'client',
  receives: 'request',
  sends: 'response',
  errorStatus: (err) => err.status,
  outOfTurn: 'H1_INVALID_REQUEST_LINE',
};

/** Each role's behaviour. */
export const ROLES: Readonly<Record<Role, RoleSpec>> = { client: CLIENT_ROLE, server: SERVER_ROLE };
