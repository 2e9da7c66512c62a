/**
 * The transition table checked against a real Connection: every (role, state, event) triple the
 * table lacks is refused when driven, every triple it has is accepted and lands where the table
 * (plus the state-triggered moves) says, every state change a connection makes is explained by
 * the table, and the generated diagram shows all of it.
 */

import { describe, expect, it } from 'vitest';
import { Connection, LocalProtocolError, PAUSED, TRANSITIONS, TRIGGERED, nextState, stateDiagram } from './index.js';
import type { NextEvent, Role, SendEvent, SendOptions, SideState, TransitionEvent } from './index.js';
import { bytes, drain } from './testing.js';

const ROLES: readonly Role[] = ['client', 'server'];
const STATES: readonly SideState[] = ['IDLE', 'SEND_RESPONSE', 'SEND_BODY', 'DONE', 'MUST_CLOSE', 'CLOSED', 'MIGHT_SWITCH_PROTOCOL', 'SWITCHED_PROTOCOL', 'ERROR'];
const EVENTS: readonly TransitionEvent[] = ['request', 'informational-response', 'response', 'accept-switch', 'data', 'end-of-message', 'connection-closed'];

const HOST = { Host: 'example.com' };
const UPGRADE_REQUEST = 'GET /chat HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n';

function server(input?: string): Connection {
  const s = new Connection('server');
  if (input !== undefined) {
    s.receiveData(bytes(input));
    drain(s);
  }
  return s;
}

/** How to put our own side of a connection of `role` into each state it can be observed in. */
const REACH: Record<Role, Partial<Record<SideState, () => Connection>>> = {
  client: {
    IDLE: () => new Connection('client'),
    SEND_BODY: () => {
      const c = new Connection('client');
      c.send({ type: 'request', method: 'PUT', target: '/', headers: HOST }, { streaming: true });
      return c;
    },
    MUST_CLOSE: () => {
      const c = new Connection('client');
      c.sendMessage({ type: 'request', method: 'GET', target: '/', headers: { ...HOST, Connection: 'close' } });
      return c;
    },
    CLOSED: () => {
      const c = new Connection('client');
      c.send({ type: 'connection-closed' });
      return c;
    },
    MIGHT_SWITCH_PROTOCOL: () => {
      const c = new Connection('client');
      c.sendMessage({ type: 'request', method: 'GET', target: '/chat', headers: { ...HOST, Connection: 'upgrade', Upgrade: 'websocket' } });
      return c;
    },
    SWITCHED_PROTOCOL: () => {
      const c = REACH.client.MIGHT_SWITCH_PROTOCOL!();
      c.receiveData(bytes('HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: websocket\r\n\r\n'));
      drain(c);
      return c;
    },
    ERROR: () => {
      const c = new Connection('client');
      c.sendFailed();
      return c;
    },
  },
  server: {
    IDLE: () => server(),
    // An Upgrade request, so that every event of the SEND_RESPONSE row (accept-switch too) is valid.
    SEND_RESPONSE: () => server(UPGRADE_REQUEST),
    SEND_BODY: () => {
      const s = server('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
      s.send({ type: 'response', status: 200 });
      return s;
    },
    MUST_CLOSE: () => {
      const s = server('GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
      s.sendMessage({ type: 'response', status: 200 });
      return s;
    },
    CLOSED: () => {
      const s = server();
      s.send({ type: 'connection-closed' });
      return s;
    },
    SWITCHED_PROTOCOL: () => {
      const s = server(UPGRADE_REQUEST);
      s.send({ type: 'response', status: 101, headers: { Connection: 'upgrade', Upgrade: 'websocket' } });
      return s;
    },
    ERROR: () => {
      const s = server('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
      s.sendFailed();
      return s;
    },
  },
};

/** States our own side never rests in: DONE is left at once for IDLE, MUST_CLOSE, …; the rest belong to the other role. */
const UNOBSERVABLE: Record<Role, readonly SideState[]> = {
  client: ['DONE', 'SEND_RESPONSE'],
  server: ['DONE', 'MIGHT_SWITCH_PROTOCOL'],
};

/** One valid way of sending each table event (valid wherever the table allows it). */
const DRIVE: Record<TransitionEvent, [SendEvent, SendOptions]> = {
  request: [{ type: 'request', method: 'GET', target: '/', headers: HOST }, {}],
  'informational-response': [{ type: 'informational-response', status: 103 }, {}],
  // An error status: the only kind of response the server may send in IDLE.
  response: [{ type: 'response', status: 503 }, { bodyLength: 0 }],
  'accept-switch': [{ type: 'response', status: 101, headers: { Connection: 'upgrade', Upgrade: 'websocket' } }, {}],
  data: [{ type: 'data', data: bytes('x') }, {}],
  'end-of-message': [{ type: 'end-of-message' }, {}],
  'connection-closed': [{ type: 'connection-closed' }, {}],
};

/** The states a side of `role` can settle in right after entering `state` (state-triggered moves). */
function settledFrom(role: Role, state: SideState): Set<SideState> {
  const seen = new Set<SideState>([state]);
  const queue = [state];
  while (queue.length > 0) {
    const s = queue.pop()!;
    for (const [r, from, to] of TRIGGERED) {
      if (r === role && from === s && !seen.has(to)) {
        seen.add(to);
        queue.push(to);
      }
    }
  }
  return seen;
}

const triples = ROLES.flatMap((role) => STATES.flatMap((state) => EVENTS.map((event) => [role, state, event] as const)));

describe('TRANSITIONS driven through a real Connection', () => {
  it('every state of the table can be put in place, except the transient and foreign ones', () => {
    for (const role of ROLES) {
      for (const state of STATES) {
        const reach = REACH[role][state];
        if (UNOBSERVABLE[role].includes(state)) {
          expect(reach, `${role} ${state}`).toBeUndefined();
          continue;
        }
        expect(reach, `${role} ${state}`).toBeDefined();
        expect(reach!().ourState).toBe(state);
      }
    }
  });

  const refused = triples.filter(([role, state, event]) => REACH[role][state] !== undefined && nextState(role, state, event) === undefined);
  const allowed = triples.filter(([role, state, event]) => REACH[role][state] !== undefined && nextState(role, state, event) !== undefined);

  it('covers both kinds of triple', () => {
    expect(refused.length).toBeGreaterThan(50);
    expect(allowed.length).toBeGreaterThan(10);
  });

  it.each(refused)('%s in %s: %s is not in the table → LocalProtocolError, nothing changes', (role, state, event) => {
    const conn = REACH[role][state]!();
    const before = conn.states;
    const [e, options] = DRIVE[event];
    let caught: unknown;
    try {
      conn.send(e, options);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(LocalProtocolError);
    expect(['H1_INVALID_STATE', 'H1_REQUEST_AFTER_CLOSE']).toContain((caught as LocalProtocolError).code);
    expect(conn.states).toEqual(before);
  });

  it.each(allowed)('%s in %s: %s is in the table → accepted, lands where the table says', (role, state, event) => {
    const conn = REACH[role][state]!();
    const [e, options] = DRIVE[event];
    conn.send(e, options);
    const to = nextState(role, state, event)!;
    expect([...settledFrom(role, to)]).toContain(conn.ourState);
  });
});

describe('the peer side refuses to parse what its table does not allow', () => {
  const nextRequest = 'GET /next HTTP/1.1\r\nHost: a\r\n\r\n';
  const cases: [label: string, setup: () => Connection, peerState: SideState][] = [
    ['client side MUST_CLOSE (request said close)', () => server(`GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n`), 'MUST_CLOSE'],
    ['client side MIGHT_SWITCH_PROTOCOL (Upgrade pending)', () => server(UPGRADE_REQUEST), 'MIGHT_SWITCH_PROTOCOL'],
    [
      'client side SWITCHED_PROTOCOL',
      () => {
        const s = server(UPGRADE_REQUEST);
        s.send({ type: 'response', status: 101, headers: { Connection: 'upgrade', Upgrade: 'websocket' } });
        return s;
      },
      'SWITCHED_PROTOCOL',
    ],
  ];

  it.each(cases)('server, %s: a further request is not parsed', (_label, setup, peerState) => {
    const s = setup();
    expect(s.theirState).toBe(peerState);
    expect(nextState('client', peerState, 'request')).toBeUndefined();
    const count = s.requestCount;
    s.receiveData(bytes(nextRequest));
    expect(s.nextEvent()).toBe(PAUSED);
    expect(s.requestCount).toBe(count);
    // Held back for a protocol switch; after a decided close it is dropped, never buffered.
    if (peerState === 'SWITCHED_PROTOCOL' || peerState === 'MIGHT_SWITCH_PROTOCOL') expect(Buffer.from(s.trailingData.data).toString('latin1')).toContain(nextRequest);
    else expect(s.discardedBytes).toBe(nextRequest.length);
  });

  it('server, client side IDLE: the request is in the table and is parsed', () => {
    const s = server();
    expect(nextState('client', 'IDLE', 'request')).toBe('SEND_BODY');
    s.receiveData(bytes(nextRequest));
    const e = s.nextEvent();
    expect(e !== PAUSED && typeof e === 'object' && e.type).toBe('request');
  });

  it('client, server side MUST_CLOSE: bytes after the last response are not parsed', () => {
    const c = new Connection('client');
    c.sendMessage({ type: 'request', method: 'GET', target: '/', headers: HOST });
    c.receiveData(bytes('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\n\r\n'));
    drain(c);
    expect(c.theirState).toBe('MUST_CLOSE');
    expect(c.nextEvent()).toBe(PAUSED);
    expect(Buffer.from(c.trailingData.data).toString('latin1')).toBe('HTTP/1.1 200 OK\r\n\r\n');
  });
});

describe('every state change a connection makes is explained by TRANSITIONS and TRIGGERED', () => {
  interface Change {
    op: string;
    side: Role;
    from: SideState;
    to: SideState;
    event: TransitionEvent | null;
  }

  /** Whether `side` may go from `from` to `to` on `event` (sent by that side, or null) and the state-triggered moves. */
  function explained({ side, from, to, event }: Change): boolean {
    if (from === to || to === 'ERROR') return true;
    const entered: SideState[] = [from];
    const events: TransitionEvent[] = event === null ? [] : event === 'response' || event === 'informational-response' ? [event, 'accept-switch'] : [event];
    for (const e of events) {
      const next = nextState(side, from, e);
      if (next !== undefined) entered.push(next);
    }
    return entered.some((s) => settledFrom(side, s).has(to));
  }

  class Recorder {
    readonly changes: Change[] = [];
    readonly seen = new Set<SideState>();

    #record(conn: Connection, op: string, before: Readonly<Record<Role, SideState>>, sender: Role | null, event: TransitionEvent | null): void {
      const after = conn.states;
      for (const side of ROLES) {
        this.seen.add(after[side]);
        if (before[side] !== after[side]) this.changes.push({ op: `${conn.role}: ${op}`, side, from: before[side], to: after[side], event: side === sender ? event : null });
      }
    }

    send(conn: Connection, event: SendEvent, options: SendOptions = {}): Uint8Array {
      const before = conn.states;
      const out = conn.send(event, options);
      this.#record(conn, `send ${event.type}`, before, conn.role, event.type);
      return bytes(out.map((p) => Buffer.from(p).toString('latin1')).join(''));
    }

    receive(conn: Connection, data: Uint8Array | null): NextEvent[] {
      if (data === null) conn.receiveEof();
      else if (data.length > 0) conn.receiveData(data);
      const peer: Role = conn.role === 'client' ? 'server' : 'client';
      const events: NextEvent[] = [];
      for (;;) {
        const before = conn.states;
        const e = conn.nextEvent();
        events.push(e);
        if (typeof e !== 'object') return events;
        this.#record(conn, `receive ${e.type}`, before, peer, e.type);
        if (e.type === 'connection-closed') return events;
      }
    }
  }

  type Script = (r: Recorder, c: Connection, s: Connection) => void;
  const get = (target = '/', headers: Record<string, string> = {}): SendEvent => ({ type: 'request', method: 'GET', target, headers: { ...HOST, ...headers } });
  const roundTrip = (r: Recorder, c: Connection, s: Connection, request: SendEvent, status = 200, headers: Record<string, string> = {}): void => {
    r.receive(s, r.send(c, request));
    r.receive(s, r.send(c, { type: 'end-of-message' }));
    r.receive(c, r.send(s, { type: 'response', status, headers }, { bodyLength: 2 }));
    r.receive(c, r.send(s, { type: 'data', data: bytes('ok') }));
    r.receive(c, r.send(s, { type: 'end-of-message' }));
  };
  const scripts: [name: string, script: Script][] = [
    ['two keep-alive exchanges', (r, c, s) => { roundTrip(r, c, s, get('/1')); roundTrip(r, c, s, get('/2')); }],
    [
      'three pipelined requests',
      (r, c, s) => {
        roundTrip(r, c, s, get('/0'));
        for (const t of ['/1', '/2', '/3']) {
          r.receive(s, r.send(c, get(t)));
          r.receive(s, r.send(c, { type: 'end-of-message' }));
        }
        for (let i = 0; i < 3; i++) {
          r.receive(c, r.send(s, { type: 'response', status: 200 }, { bodyLength: 0 }));
          r.receive(c, r.send(s, { type: 'end-of-message' }));
        }
      },
    ],
    ['request with Connection: close, then both close', (r, c, s) => {
      roundTrip(r, c, s, get('/', { Connection: 'close' }));
      r.send(s, { type: 'connection-closed' });
      r.receive(c, null);
      r.send(c, { type: 'connection-closed' });
      r.receive(s, null);
    }],
    ['response with Connection: close', (r, c, s) => roundTrip(r, c, s, get(), 200, { Connection: 'close' })],
    ['server closes an idle keep-alive connection', (r, c, s) => {
      roundTrip(r, c, s, get());
      r.send(s, { type: 'connection-closed' });
      r.receive(c, null);
    }],
    ['client half-closes an idle keep-alive connection', (r, c, s) => {
      roundTrip(r, c, s, get());
      r.send(c, { type: 'connection-closed' });
      r.receive(s, null);
    }],
    ['client half-closes with two requests pipelined', (r, c, s) => {
      roundTrip(r, c, s, get('/0'));
      const wire = [r.send(c, get('/1')), r.send(c, { type: 'end-of-message' }), r.send(c, get('/2')), r.send(c, { type: 'end-of-message' })];
      r.receive(s, bytes(wire.map((w) => Buffer.from(w).toString('latin1')).join('')));
      r.receive(s, null);
      for (let i = 0; i < 2; i++) {
        r.receive(c, r.send(s, { type: 'response', status: 200 }, { bodyLength: 0 }));
        r.receive(c, r.send(s, { type: 'end-of-message' }));
      }
    }],
    ['Upgrade accepted', (r, c, s) => {
      r.receive(s, r.send(c, get('/chat', { Connection: 'upgrade', Upgrade: 'websocket' })));
      r.receive(s, r.send(c, { type: 'end-of-message' }));
      r.receive(c, r.send(s, { type: 'response', status: 101, headers: { Connection: 'upgrade', Upgrade: 'websocket' } }));
    }],
    ['Upgrade declined', (r, c, s) => {
      roundTrip(r, c, s, get('/chat', { Connection: 'upgrade', Upgrade: 'websocket' }));
      roundTrip(r, c, s, get('/after'));
    }],
    ['Upgrade with close, declined', (r, c, s) => roundTrip(r, c, s, get('/chat', { Connection: 'upgrade, close', Upgrade: 'websocket' }))],
    ['Upgrade declined with close', (r, c, s) => roundTrip(r, c, s, get('/chat', { Connection: 'upgrade', Upgrade: 'websocket' }), 200, { Connection: 'close' })],
    ['CONNECT accepted', (r, c, s) => {
      r.receive(s, r.send(c, { type: 'request', method: 'CONNECT', target: 'example.com:443', headers: { Host: 'example.com:443' } }));
      r.receive(s, r.send(c, { type: 'end-of-message' }));
      r.receive(c, r.send(s, { type: 'response', status: 200 }));
    }],
    ['CONNECT declined', (r, c, s) => roundTrip(r, c, s, { type: 'request', method: 'CONNECT', target: 'example.com:443', headers: { Host: 'example.com:443' } }, 407)],
    ['Expect: 100-continue', (r, c, s) => {
      r.receive(s, r.send(c, { type: 'request', method: 'PUT', target: '/', headers: { ...HOST, Expect: '100-continue' } }, { bodyLength: 2 }));
      r.receive(c, r.send(s, { type: 'informational-response', status: 100 }));
      r.receive(s, r.send(c, { type: 'data', data: bytes('ab') }));
      r.receive(s, r.send(c, { type: 'end-of-message' }));
      r.receive(c, r.send(s, { type: 'response', status: 204 }));
      r.receive(c, r.send(s, { type: 'end-of-message' }));
    }],
    ['408 on an idle connection', (r, c, s) => {
      r.send(s, { type: 'response', status: 408 }, { bodyLength: 0 });
      r.send(s, { type: 'end-of-message' });
      r.send(s, { type: 'connection-closed' });
      void c;
    }],
    ['close-delimited response', (r, c, s) => {
      r.send(c, get());
      r.send(c, { type: 'end-of-message' });
      r.receive(c, bytes('HTTP/1.1 200 OK\r\n\r\nbody'));
      r.receive(c, null);
      void s;
    }],
    ['the server closes with requests in flight', (r, c, s) => {
      r.send(c, get('/1'));
      r.send(c, { type: 'end-of-message' });
      r.receive(c, null);
      void s;
    }],
  ];

  it.each(scripts)('%s', (_name, script) => {
    const r = new Recorder();
    script(r, new Connection('client'), new Connection('server'));
    expect(r.changes.length).toBeGreaterThan(0);
    expect(r.changes.filter((ch) => !explained(ch))).toEqual([]);
    expect(r.seen.has('DONE')).toBe(false);
  });
});

describe('stateDiagram()', () => {
  it.each(ROLES)('%s: one line per table transition and per state-triggered move, nothing else', (role) => {
    const lines = stateDiagram(role).split('\n');
    expect(lines[0]).toBe('stateDiagram-v2');
    expect(lines[1]).toBe('  [*] --> IDLE');
    const table = Object.entries(TRANSITIONS[role]).flatMap(([state, row]) => Object.entries(row).map(([event, next]) => `  ${state} --> ${next}: ${event}`));
    for (const line of table) expect(lines).toContain(line);
    const triggered = TRIGGERED.filter(([r]) => r === role);
    for (const [, from, to, why] of triggered) {
      expect(lines.filter((l) => l.startsWith(`  ${from} --> ${to}: `) && l.includes(why))).toHaveLength(1);
    }
    expect(lines).toHaveLength(2 + table.length + triggered.length);
    for (const line of lines.slice(2)) {
      const m = /^ {2}(\S+) --> (\S+): .+$/.exec(line);
      expect(m, line).not.toBeNull();
      for (const state of [m![1], m![2]]) if (state !== '[*]') expect(STATES).toContain(state);
    }
  });

  it('the two roles have different diagrams', () => {
    expect(stateDiagram('client')).not.toBe(stateDiagram('server'));
  });

  it.each(ROLES)('%s: every state in the diagram is reachable from IDLE', (role) => {
    const edges: [SideState, SideState][] = [
      ...Object.entries(TRANSITIONS[role]).flatMap(([state, row]) => Object.values(row).map((next) => [state as SideState, next as SideState] as [SideState, SideState])),
      ...TRIGGERED.filter(([r]) => r === role).map(([, from, to]) => [from, to] as [SideState, SideState]),
    ];
    const reached = new Set<SideState>(['IDLE']);
    for (let grew = true; grew; ) {
      grew = false;
      for (const [from, to] of edges) {
        if (reached.has(from) && !reached.has(to)) {
          reached.add(to);
          grew = true;
        }
      }
    }
    for (const [from, to] of edges) {
      expect(reached.has(from), `${role} ${from}`).toBe(true);
      expect(reached.has(to), `${role} ${to}`).toBe(true);
    }
  });

  it('nextState agrees with the table and returns undefined off it', () => {
    for (const [role, state, event] of triples) {
      const row = (TRANSITIONS[role] as Partial<Record<SideState, Partial<Record<TransitionEvent, SideState>>>>)[state];
      expect(nextState(role, state, event)).toBe(row?.[event]);
    }
  });
});
