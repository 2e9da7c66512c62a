import { describe, expect, it } from 'vitest';
import { CLOSE_AFTER_STREAK, UNKNOWN_ORIGIN, observeOrigin } from './origin-profile.js';
import type { EndedBy, OriginObservation, OriginProfile, ResponseClose } from './origin-profile.js';

const INF = Number.POSITIVE_INFINITY;

/** A connection's responses 1..n, the last one closing as `last` says. */
function connection(n: number, last: ResponseClose = 'announced'): OriginObservation[] {
  return Array.from({ length: n }, (_, i): OriginObservation => ({ type: 'response', response: i + 1, close: i + 1 === n ? last : 'none' }));
}
const response = (n: number, close: ResponseClose): OriginObservation => ({ type: 'response', response: n, close });
const ended = (responses: number, endedBy: EndedBy, more: { closeAnnounced?: boolean; lostPipelined?: number } = {}): OriginObservation => ({
  type: 'connection-ended',
  responses,
  endedBy,
  closeAnnounced: more.closeAnnounced ?? false,
  lostPipelined: more.lostPipelined ?? 0,
});
const times = (k: number, obs: OriginObservation | OriginObservation[]): OriginObservation[] => Array.from({ length: k }, () => obs).flat();

function replay(observations: readonly OriginObservation[]): OriginProfile {
  return observations.reduce(observeOrigin, UNKNOWN_ORIGIN);
}

type Decisions = Pick<OriginProfile, 'limitPerConnection' | 'pipeliningSafe' | 'reuseSafe'>;
const decided = (limitPerConnection: number, pipeliningSafe = true, reuseSafe = true): Decisions => ({ limitPerConnection, pipeliningSafe, reuseSafe });

describe('what a pool learns about its origin', () => {
  const rows: [what: string, observations: OriginObservation[], decisions: Decisions][] = [
    ['nothing seen: no limit, pipelining and reuse trusted', [], decided(INF)],
    ['connections kept open: nothing learned', times(3, connection(10, 'none')), decided(INF)],
    ['one close after 5: not yet a pattern', connection(5), decided(INF)],
    ['two closes after 5 in a row: not yet (a pair closed together proves little)', times(2, connection(5)), decided(INF)],
    [`${CLOSE_AFTER_STREAK} closes after 5 in a row: at most 5 per connection`, times(CLOSE_AFTER_STREAK, connection(5)), decided(5)],
    ['closes after 5, 5, 4: the streak restarts', [...times(2, connection(5)), ...connection(4)], decided(INF)],
    ['closes after 5, 5, 4, 5, 5, 5: learned after the last three', [...times(2, connection(5)), ...connection(4), ...times(3, connection(5))], decided(5)],
    ['a close we asked for (Connection: close on our request) teaches nothing', times(5, connection(5, 'asked')), decided(INF)],
    ['asked closes do not break a streak', [...connection(5), ...connection(3, 'asked'), ...connection(5), ...connection(5)], decided(5)],
    ['the first response closing every time: a limit of 1', times(3, connection(1)), decided(1)],
    ['learned 5, then a connection kept open on its 5th response: forgotten', [...times(3, connection(5)), ...connection(5, 'none')], decided(INF)],
    ['learned 5, then kept open on an earlier response: kept', [...times(3, connection(5)), ...connection(4, 'none')], decided(5)],
    ['learned 5, then one close after 3: kept (one close is no pattern)', [...times(3, connection(5)), ...connection(3)], decided(5)],
    ['learned 5, then three closes after 3: at most 3', [...times(3, connection(5)), ...times(3, connection(3))], decided(3)],
    ['learned 5, then three closes after 8 (the server was reloaded with a higher limit, seen past 5): 8', [...times(3, connection(5)), ...connection(5, 'none'), ...times(3, connection(8))], decided(8)],
    ['pipelined requests lost unannounced after a response: pipelining off', [ended(1, 'server', { lostPipelined: 3 })], decided(INF, false)],
    ['pipelined requests lost to a timeout after a response: pipelining off', [ended(2, 'timeout', { lostPipelined: 1 })], decided(INF, false)],
    ['pipelined requests lost after an announced close: pipelining stays', [ended(3, 'server', { closeAnnounced: true, lostPipelined: 4 })], decided(INF)],
    ['pipelined requests lost when we closed or aborted: pipelining stays', [ended(3, 'client', { lostPipelined: 4 })], decided(INF)],
    ['pipelined requests lost before any response: pipelining stays', [ended(0, 'server', { lostPipelined: 2 })], decided(INF)],
    ['a lost request that was not pipelined: pipelining stays', [ended(3, 'server')], decided(INF)],
    ['two connections closed after one response: reuse stays', times(2, ended(1, 'server')), decided(INF)],
    ['three connections closed after one response, unannounced, none ever reused: reuse off', times(3, ended(1, 'server')), decided(INF, true, false)],
    ['three closed after one, but a connection once carried two: reuse stays', [response(2, 'none'), ...times(3, ended(1, 'server'))], decided(INF)],
    ['three closed after one by a timeout: reuse stays', times(3, ended(1, 'timeout')), decided(INF)],
    ['three closed after one by us: reuse stays', times(3, ended(1, 'client')), decided(INF)],
    ['three closed after one announced response: reuse stays (the server said so)', times(3, ended(1, 'server', { closeAnnounced: true })), decided(INF)],
    ['three closed after two responses: reuse stays', times(3, ended(2, 'server')), decided(INF)],
  ];

  it.each(rows)('%s', (_what, observations, decisions) => {
    const p = replay(observations);
    expect({ limitPerConnection: p.limitPerConnection, pipeliningSafe: p.pipeliningSafe, reuseSafe: p.reuseSafe }).toEqual(decisions);
  });

  it('an observation that changes nothing returns the same profile', () => {
    const learned = replay(times(3, connection(5)));
    for (const o of [response(1, 'none'), response(4, 'none'), response(3, 'asked')]) expect(observeOrigin(learned, o)).toBe(learned);
    expect(observeOrigin(UNKNOWN_ORIGIN, response(1, 'none'))).toBe(UNKNOWN_ORIGIN);
  });

  it('never mutates the profile it is given', () => {
    const before = replay(times(2, connection(5)));
    const copy = JSON.stringify(before);
    observeOrigin(before, response(5, 'announced'));
    observeOrigin(before, ended(1, 'server', { lostPipelined: 2 }));
    expect(JSON.stringify(before)).toBe(copy);
  });
});
