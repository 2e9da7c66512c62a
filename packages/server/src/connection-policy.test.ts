import { describe, expect, it } from 'vitest';
import { onResponseFailed, onTimeout } from './connection-policy.js';
import type { ConnectionAction, Timeout, TimeoutState } from './connection-policy.js';

const IDLE: TimeoutState = { idle: true, queued: 0, current: null };
const READING: TimeoutState = { idle: false, queued: 1, current: { complete: false, headOut: false } };
const STREAMING_EARLY: TimeoutState = { idle: false, queued: 1, current: { complete: false, headOut: true } };
const ANSWERING: TimeoutState = { idle: false, queued: 1, current: { complete: true, headOut: false } };
const HEAD_WAITING: TimeoutState = { idle: false, queued: 2, current: { complete: true, headOut: true } };

describe('onTimeout', () => {
  it.each<[Timeout, string, TimeoutState, ConnectionAction]>([
    ['linger', 'any state', READING, { kind: 'abort', reason: 'client-close' }],
    ['idle', 'idle', IDLE, { kind: 'close', reason: 'keep-alive-timeout' }],
    ['idle', 'a request came meanwhile', ANSWERING, { kind: 'none' }],
    ['head', 'no request waiting (slowloris)', IDLE, { kind: 'answer', status: 408, reason: 'timeout' }],
    ['head', 'requests waiting to be answered', HEAD_WAITING, { kind: 'none' }],
    ['request', 'body not arrived, nothing sent', READING, { kind: 'answer', status: 408, reason: 'timeout' }],
    ['request', 'body not arrived, the head is out', STREAMING_EARLY, { kind: 'abort', reason: 'timeout' }],
    ['request', 'the body arrived', ANSWERING, { kind: 'none' }],
    ['request', 'nothing being answered', IDLE, { kind: 'none' }],
  ])('%s, %s', (timeout, _name, state, action) => {
    expect(onTimeout(timeout, state)).toEqual(action);
  });
});

describe('onResponseFailed', () => {
  it.each<[string, boolean, number | null, ConnectionAction]>([
    ['nothing sent: 500 in its place', false, null, { kind: 'answer', status: 500, reason: 'error' }],
    ['nothing sent, the body was bad: its status', false, 413, { kind: 'answer', status: 413, reason: 'parse-error' }],
    ['the head is out: close at once', true, null, { kind: 'abort', reason: 'error' }],
    ['the head is out, the body was bad: close at once', true, 400, { kind: 'abort', reason: 'error' }],
  ])('%s', (_name, headOut, bodyStatus, action) => {
    expect(onResponseFailed(headOut, bodyStatus)).toEqual(action);
  });
});
