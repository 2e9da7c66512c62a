/**
 * Theory of operation: the states of the two directions of an HTTP/1.1 connection, after h11.
 * The client's side is the request stream, the server's side the response stream; each moves
 * through its own table, driven by the events that side sends. A (role, state, event) triple that
 * is not in the table is a protocol error.
 *
 * Event-triggered transitions are data ({@link TRANSITIONS}); the data-dependent ones — where a
 * finished message leads (DONE → IDLE, MUST_CLOSE or MIGHT_SWITCH_PROTOCOL; the response stream
 * back to SEND_RESPONSE while pipelined requests wait) — are applied by the connection right
 * after, and listed in {@link TRIGGERED} for the diagram.
 *
 * `accept-switch` is the event of a response that accepts a protocol switch: 101 to an Upgrade
 * request, or 2xx to CONNECT.
 */

import type { EventType } from './events.js';

/** The two roles of an HTTP connection. */
export type Role = 'client' | 'server';

/** The state of one side. */
export type SideState =
  | 'IDLE'
  | 'SEND_RESPONSE'
  | 'SEND_BODY'
  | 'DONE'
  | 'MUST_CLOSE'
  | 'CLOSED'
  | 'MIGHT_SWITCH_PROTOCOL'
  | 'SWITCHED_PROTOCOL'
  | 'ERROR';

/** Event types of the table: the wire events plus the accepted protocol switch. */
export type TransitionEvent = EventType | 'accept-switch';

type Table = Readonly<Record<Role, Readonly<Partial<Record<SideState, Readonly<Partial<Record<TransitionEvent, SideState>>>>>>>>;

/** TRANSITIONS[role][state][event] → next state of the side `role` when `role` sends `event`. */
export const TRANSITIONS = {
  client: {
    IDLE: { request: 'SEND_BODY', 'connection-closed': 'CLOSED' },
    SEND_BODY: { data: 'SEND_BODY', 'end-of-message': 'DONE' },
    DONE: { 'connection-closed': 'CLOSED' },
    MUST_CLOSE: { 'connection-closed': 'CLOSED' },
    CLOSED: { 'connection-closed': 'CLOSED' },
    MIGHT_SWITCH_PROTOCOL: { 'connection-closed': 'CLOSED' },
  },
  server: {
    // A response in IDLE is only an error response (to a request that could not be parsed, or a
    // 408 on a connection that sent no request); the connection checks that and closes after.
    IDLE: { response: 'SEND_BODY', 'connection-closed': 'CLOSED' },
    SEND_RESPONSE: {
      'informational-response': 'SEND_RESPONSE',
      response: 'SEND_BODY',
      'accept-switch': 'SWITCHED_PROTOCOL',
      'connection-closed': 'CLOSED',
    },
    SEND_BODY: { data: 'SEND_BODY', 'end-of-message': 'DONE' },
    DONE: { 'connection-closed': 'CLOSED' },
    MUST_CLOSE: { 'connection-closed': 'CLOSED' },
    CLOSED: { 'connection-closed': 'CLOSED' },
  },
} as const satisfies Table;

/** The state-triggered transitions the connection applies after each event, for the diagram. */
export const TRIGGERED: readonly (readonly [Role, SideState, SideState, string])[] = [
  ['client', 'DONE', 'IDLE', 'connection persists'],
  ['client', 'DONE', 'MUST_CLOSE', 'close decided'],
  ['client', 'DONE', 'MIGHT_SWITCH_PROTOCOL', 'Upgrade or CONNECT sent'],
  ['client', 'IDLE', 'MUST_CLOSE', 'close decided'],
  ['client', 'MIGHT_SWITCH_PROTOCOL', 'IDLE', 'switch declined'],
  ['client', 'MIGHT_SWITCH_PROTOCOL', 'SWITCHED_PROTOCOL', 'switch accepted'],
  ['server', 'IDLE', 'SEND_RESPONSE', 'request received'],
  ['server', 'DONE', 'SEND_RESPONSE', 'pipelined request waiting'],
  ['server', 'DONE', 'IDLE', 'connection persists'],
  ['server', 'DONE', 'MUST_CLOSE', 'close decided'],
  ['server', 'IDLE', 'MUST_CLOSE', 'client closing, nothing to answer'],
];

/**
 * The next state of `role`'s side for `event`, or `undefined` when the table has no such move.
 * {@link TRANSITIONS} written out as branches: the connection asks on every message, and
 * comparing interned strings costs less than two map lookups. A test checks every (role, state,
 * event) triple against the table.
 */
export function nextState(role: Role, state: SideState, event: TransitionEvent): SideState | undefined {
  switch (event) {
    case 'connection-closed':
      // Every state may learn of the close except a half-sent message, a switch and an error.
      return state === 'SEND_BODY' || state === 'SWITCHED_PROTOCOL' || state === 'ERROR' || (role === 'client' && state === 'SEND_RESPONSE') || (role === 'server' && state === 'MIGHT_SWITCH_PROTOCOL') ? undefined : 'CLOSED';
    case 'data':
      return state === 'SEND_BODY' ? 'SEND_BODY' : undefined;
    case 'end-of-message':
      return state === 'SEND_BODY' ? 'DONE' : undefined;
    case 'request':
      return role === 'client' && state === 'IDLE' ? 'SEND_BODY' : undefined;
    case 'response':
      return role === 'server' && (state === 'IDLE' || state === 'SEND_RESPONSE') ? 'SEND_BODY' : undefined;
    case 'informational-response':
      return role === 'server' && state === 'SEND_RESPONSE' ? 'SEND_RESPONSE' : undefined;
    case 'accept-switch':
      return role === 'server' && state === 'SEND_RESPONSE' ? 'SWITCHED_PROTOCOL' : undefined;
    default:
      return undefined;
  }
}

/** The Mermaid `stateDiagram-v2` of one role's side, generated from the tables. */
export function stateDiagram(role: Role): string {
  const lines = ['stateDiagram-v2', `  [*] --> IDLE`];
  for (const [state, row] of Object.entries((TRANSITIONS as Table)[role])) {
    for (const [event, next] of Object.entries(row ?? {})) lines.push(`  ${state} --> ${next}: ${event}`);
  }
  for (const [r, from, to, why] of TRIGGERED) if (r === role) lines.push(`  ${from} --> ${to}: when ${why}`);
  return lines.join('\n');
}
