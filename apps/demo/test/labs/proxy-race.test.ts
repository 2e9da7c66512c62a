import { describe, expect, it } from 'vitest';

import { nginxConfig } from '../../src/labs/nginx.js';
import { gapsFor, raceLines, runProxyRace } from '../../src/labs/proxy-race.js';

describe('nginxConfig', () => {
  const conf = nginxConfig({ dir: '/tmp/x', port: 8080, errorLog: '/tmp/x/error.log' }, { app: { port: 9000, keepalive: 32, keepaliveTimeoutS: 60 } });

  it('pools idle upstream connections and keeps them persistent', () => {
    expect(conf).toMatch(/upstream app \{\s+server 127\.0\.0\.1:9000 max_fails=0;\s+keepalive 32;\s+keepalive_timeout 60s;\s+\}/);
    expect(conf).toMatch(/location \/app\/ \{\s+proxy_pass http:\/\/app;\s+proxy_http_version 1\.1;\s+proxy_set_header Connection "";/);
  });

  it('runs as one foreground process on 127.0.0.1 with every file in its temp dir', () => {
    expect(conf).toContain('daemon off;');
    expect(conf).toContain('master_process off;');
    expect(conf).toContain('listen 127.0.0.1:8080;');
    expect(conf).toContain('pid "/tmp/x/nginx.pid";');
    expect(conf).toContain('error_log "/tmp/x/error.log" warn;');
  });

  it('leaves proxy_next_upstream at its default (the 502 count depends on it)', () => {
    expect(conf).not.toContain('proxy_next_upstream');
  });
});

describe('raceLines', () => {
  const log = [
    '2026/12/05 22:00:00 [error] 1#1: *5 upstream prematurely closed connection while reading response header from upstream, client: 127.0.0.1, server: , request: "POST /a/1/2 HTTP/1.1", upstream: "http://127.0.0.1:1/a/1/2"',
    '2026/12/05 22:00:00 [error] 1#1: *6 recv() failed (104: Connection reset by peer) while reading response header from upstream, client: 127.0.0.1, server: , request: "POST /a/1/3 HTTP/1.1"',
    '2026/12/05 22:00:00 [error] 1#1: *7 upstream prematurely closed connection while reading response header from upstream, client: 127.0.0.1, server: , request: "GET /a/1/3 HTTP/1.1"',
    '2026/12/05 22:00:00 [error] 1#1: *8 upstream prematurely closed connection while reading response header from upstream, client: 127.0.0.1, server: , request: "POST /ab/1/3 HTTP/1.1"',
    '2026/12/05 22:00:00 [notice] 1#1: signal process started',
  ].join('\n');

  it.each([
    ['POST', 'a', 2],
    ['GET', 'a', 1],
    ['POST', 'ab', 1],
    ['POST', 'b', 0],
  ])('%s /%s/: %i upstream requests lost', (method, route, expected) => {
    expect(raceLines(log, method, route)).toBe(expected);
  });
});

describe('gapsFor', () => {
  it('puts one gap after each burst but the last, around the idle close, before it by half the round trip', () => {
    expect(gapsFor(1200, 6)).toEqual([1180, 1172, 1188, 1176, 1184]);
    expect(gapsFor(1200, 3)).toEqual([1180, 1172]);
    expect(gapsFor(1200, 1)).toEqual([]);
    expect(gapsFor(0, 2)).toEqual([1]);
  });
});

describe('proxy-race lab (nginx)', () => {
  it('gets 502s behind nginx from a server that closes idle connections first, none when its timeout is above the proxy\'s', async () => {
    const result = await runProxyRace({ quick: true });
    const { nodeDefault, nodeFixed, tether, nodeDefaultGet, advertised } = result.data;
    for (const run of [nodeDefault, nodeFixed, tether, nodeDefaultGet]) expect(run.requests, run.backend).toBe(48);

    // The server closes while nginx reuses: POSTs answered 502, each one a request nginx lost upstream.
    expect(nodeDefault.badGateway).toBeGreaterThan(0);
    expect(nodeDefault.badGateway).toBe(nodeDefault.raced);

    // The fix: the server keeps idle connections longer than nginx; nginx reuses one connection per slot.
    expect(nodeFixed).toMatchObject({ badGateway: 0, raced: 0, unanswered: 0, upstreamConnections: 16 });
    expect(nodeFixed.statuses).toEqual({ 200: 48 });

    // @tether/server with the same short timeout: whatever its count, every 502 is a lost upstream request.
    expect(tether.badGateway).toBe(tether.raced);
    expect(tether.unanswered).toBe(0);

    // GETs race the same way, and nginx re-sends every one (proxy_next_upstream error): no 502.
    expect(nodeDefaultGet.raced).toBeGreaterThan(0);
    expect(nodeDefaultGet.badGateway).toBe(0);

    expect(advertised.tether).toMatch(/^timeout=\d+/);
    expect(result.data.nginxVersion).toMatch(/^\d+\.\d+/);
    expect(result.ok).toBe(true);
  }, 60_000);
});
