import { describe, expect, it } from 'vitest';
import { canPipeline } from './index.js';
import type { PipelineLimits, PipelineRequest, PipelineSnapshot, PipelineVerdict } from './index.js';
import { ConnectionPair, bytes, drain } from './testing.js';

const OK: PipelineVerdict = { ok: true };
const no = (reason: string): PipelineVerdict => ({ ok: false, reason }) as PipelineVerdict;

/** Persistence confirmed, one GET in flight: a pipelined request is fine unless a rule says otherwise. */
const BUSY: PipelineSnapshot = { inFlight: 1, persistenceConfirmed: true, closing: false, barrierInFlight: false };
const QUIET: PipelineSnapshot = { ...BUSY, inFlight: 0 };
const GET: PipelineRequest = { method: 'GET' };

describe('canPipeline: the protocol rules and the sender limits, in order', () => {
  const rows: [rule: string, request: PipelineRequest, conn: PipelineSnapshot, limits: PipelineLimits | undefined, verdict: PipelineVerdict][] = [
    ['a GET behind a GET on a confirmed connection', GET, BUSY, undefined, OK],
    ['nothing in flight: any request', { method: 'POST', streamingBody: true }, QUIET, undefined, OK],
    ['closing: refused, even with nothing in flight', GET, { ...QUIET, closing: true }, undefined, no('closing')],
    ['closing comes before the request limit', GET, { ...QUIET, closing: true }, { remaining: 0 }, no('closing')],
    ['no request left on the connection: refused, even with nothing in flight', GET, QUIET, { remaining: 0 }, no('request-limit')],
    ['no request left, one in flight', GET, BUSY, { remaining: 0 }, no('request-limit')],
    ['one request left: fine', GET, BUSY, { remaining: 1 }, OK],
    ['nothing in flight: the pipelining depth does not apply', GET, QUIET, { maxInFlight: 1 }, OK],
    ['nothing in flight: backed-up output does not apply', GET, QUIET, { outputBackedUp: true }, OK],
    ['behind a barrier', GET, { ...BUSY, barrierInFlight: true }, undefined, no('behind-barrier')],
    ['persistence unconfirmed', GET, { ...BUSY, persistenceConfirmed: false }, undefined, no('persistence-unconfirmed')],
    ['pipelining depth 1 (no pipelining): refused behind one in flight', GET, BUSY, { maxInFlight: 1 }, no('pipeline-full')],
    ['pipelining depth reached', GET, { ...BUSY, inFlight: 10 }, { maxInFlight: 10 }, no('pipeline-full')],
    ['under the pipelining depth', GET, { ...BUSY, inFlight: 9 }, { maxInFlight: 10 }, OK],
    ['depth reached behind a barrier: the depth is reported (checked first)', GET, { ...BUSY, inFlight: 2, barrierInFlight: true }, { maxInFlight: 2 }, no('pipeline-full')],
    ['output backed up: wait for it to drain', GET, BUSY, { outputBackedUp: true }, no('output-backed-up')],
    ['output not backed up', GET, BUSY, { outputBackedUp: false }, OK],
    ['an upgrade', { method: 'GET', upgrade: true }, BUSY, undefined, no('upgrade')],
    ['CONNECT, even said to be idempotent', { method: 'CONNECT', idempotent: true }, BUSY, undefined, no('upgrade')],
    ['a POST', { method: 'POST' }, BUSY, undefined, no('not-idempotent')],
    ['a POST the sender says is idempotent', { method: 'POST', idempotent: true }, BUSY, undefined, OK],
    ['a GET the sender says is not idempotent', { method: 'GET', idempotent: false }, BUSY, undefined, no('not-idempotent')],
    ['a PUT with a streaming body', { method: 'PUT', streamingBody: true }, BUSY, undefined, no('streaming-body')],
    ['every limit at once: the request limit is reported', { method: 'POST', streamingBody: true }, { ...BUSY, persistenceConfirmed: false, barrierInFlight: true }, { remaining: 0, maxInFlight: 1, outputBackedUp: true }, no('request-limit')],
  ];

  it.each(rows)('%s', (_rule, request, conn, limits, verdict) => {
    expect(canPipeline(request, conn, limits)).toEqual(verdict);
  });
});

describe('the sender\'s word on idempotency, through a Connection', () => {
  function confirmed(): ConnectionPair {
    const pair = new ConnectionPair();
    pair.server.receiveData(pair.client.sendMessage({ type: 'request', method: 'GET', target: '/', headers: { Host: 'a' } }));
    drain(pair.server);
    pair.client.receiveData(pair.server.sendMessage({ type: 'response', status: 200 }, bytes('ok')));
    drain(pair.client);
    return pair;
  }

  it('a GET sent as not idempotent is a barrier until its response head', () => {
    const pair = confirmed();
    pair.client.sendMessage({ type: 'request', method: 'GET', target: '/once', headers: { Host: 'a' }, idempotent: false });
    expect(pair.client.canSend(GET)).toEqual(no('behind-barrier'));
  });

  it('a POST sent as idempotent is no barrier', () => {
    const pair = confirmed();
    pair.client.sendMessage({ type: 'request', method: 'POST', target: '/safe', headers: { Host: 'a' }, idempotent: true }, bytes('x'));
    expect(pair.client.canSend(GET)).toEqual(OK);
  });

  it('canSend passes the sender limits on', () => {
    const pair = confirmed();
    pair.client.sendMessage({ type: 'request', method: 'GET', target: '/', headers: { Host: 'a' } });
    expect(pair.client.canSend(GET, { maxInFlight: 1 })).toEqual(no('pipeline-full'));
    expect(pair.client.canSend(GET, { remaining: 0 })).toEqual(no('request-limit'));
    expect(pair.client.canSend(GET, { outputBackedUp: true })).toEqual(no('output-backed-up'));
    expect(pair.client.canSend(GET, { maxInFlight: 2, remaining: 1, outputBackedUp: false })).toEqual(OK);
  });
});
