/**
 * Waterfalls: the emulated handshake drawn as its own phase (matched to the client's
 * connections), and what a waterfall shows a reader without the README — a legend, a chip per
 * connection, axis titles with units.
 */
import { describe, expect, it } from 'vitest';
import { predict } from '../src/model.js';
import { WATERFALL_CAPTIONS, waterfallSvg } from '../src/report.js';
import type { StrategyResult } from '../src/run.js';
import { withHandshakes } from '../src/strategies.js';
import type { RequestTrace, Trace } from '../src/strategies.js';

const T0 = 1000;

function request(path: string, connection: number, at: number, opens: boolean): RequestTrace {
  return { path, connection, queued: at, connectStart: opens ? at : undefined, connected: opens ? at + 0.2 : undefined, sent: at + 0.3, firstByte: at + 150, end: at + 160, bytes: 100 };
}

function trace(requests: readonly RequestTrace[]): Trace {
  return { strategy: 'pooled', startedAt: T0, totalMs: Math.max(...requests.map((q) => q.end)), firstObjectMs: 0, connections: 2, requestsPerConnection: [], requests, bodyBytes: 0, retries: 0 };
}

describe('withHandshakes', () => {
  it.each([
    {
      name: 'each new connection ends its handshake when the link says, in the order opened',
      requests: [request('/index.html', 1, 0, true), request('/objects/0', 1, 200, false), request('/objects/1', 2, 200, true)],
      // Absolute times: accepted 1 ms after each connect(), RTT 50.
      handshakes: [
        { openedAt: T0 + 201, establishedAt: T0 + 251 },
        { openedAt: T0 + 1, establishedAt: T0 + 51 },
      ],
      connected: [51, undefined, 251],
    },
    {
      name: 'a connection the link did not count keeps the client’s own timing',
      requests: [request('/index.html', 1, 0, true), request('/objects/0', 2, 10, true)],
      handshakes: [{ openedAt: T0 + 1, establishedAt: T0 + 51 }],
      connected: [51, 10.2],
    },
    {
      name: 'a handshake that ended before the client saw its connect (no link delay) stays at the connect',
      requests: [request('/index.html', 1, 5, true)],
      handshakes: [{ openedAt: T0 + 4, establishedAt: T0 + 4 }],
      connected: [5],
    },
  ])('$name', ({ requests, handshakes, connected }) => {
    expect(withHandshakes(trace(requests), handshakes).requests.map((q) => q.connected)).toEqual(connected);
  });
});

describe('waterfallSvg', () => {
  const t = withHandshakes(trace([request('/index.html', 1, 0, true), request('/objects/0', 1, 200, false), request('/objects/1', 7, 200, true)]), [
    { openedAt: T0 + 1, establishedAt: T0 + 51 },
    { openedAt: T0 + 201, establishedAt: T0 + 251 },
  ]);
  const model = predict('pooled', { rttMs: 50, bandwidth: Infinity, initialWindow: Infinity, connections: 2, htmlBytes: 100, objectBytes: [100, 100] });
  const result: StrategyResult = { strategy: 'pooled', trace: t, runs: [t], model, gap: 0, link: { handshakes: 2, bytesUp: 0, bytesDown: 0 }, work: { requestMs: 0, connectMs: 0 } };
  const svg = waterfallSvg(result, 500);

  it('draws the handshake as connecting, up to the end the link reported', () => {
    expect(svg).toContain('/index.html on connection 1, connecting: 0–51 ms');
    expect(svg).toContain('/objects/1 on connection 2, connecting: 200–251 ms');
    // Waiting starts when the handshake ended, not when the client wrote the request.
    expect(svg).toContain('/objects/1 on connection 2, waiting: 251–350 ms');
  });

  it('numbers connections in the order opened, with a chip per row', () => {
    expect(svg.match(/<rect class="chip"/g)).toHaveLength(3);
    expect(svg.match(/<title>connection (\d)<\/title>/g)).toEqual(['<title>connection 1</title>', '<title>connection 1</title>', '<title>connection 2</title>']);
  });

  it('has a legend and axis titles with units', () => {
    for (const text of ['queued (waiting for a connection)', 'connecting (handshake)', 'waiting (request → first byte)', 'receiving', "model's predicted end", 'time since the page load started (ms)', 'request (in the order issued)', 'numbered in the order opened']) {
      expect(svg).toContain(text.replace("'", '&#39;'));
    }
  });

  it('every strategy has a sentence saying what to look at', () => {
    for (const caption of Object.values(WATERFALL_CAPTIONS)) expect(caption).toMatch(/^[A-Z].{40,}\.$/);
  });
});
