/**
 * startPeer against the real Debian binaries on 127.0.0.1: each peer starts from a trivial
 * config, answers, and is gone (process and temp dir) once stopped; a port another process holds
 * is given up for the next; a binary that is not there and a config the peer refuses are errors
 * that say why.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

import { START_ATTEMPTS, apacheModules, freePort, nginxConfig, peerBinary, startPeer } from '../src/index.js';
import type { PeerKind, PeerPlace, PeerSetup, RunningPeer } from '../src/index.js';

const READY = { path: '/ready', body: 'ready\n' } as const;
/** A start may take its three attempts of READY_MS on a loaded machine; stops take their own. */
const TEST_TIMEOUT_MS = 60_000;

const running: RunningPeer[] = [];
const holders: net.Server[] = [];
afterEach(async () => {
  for (const peer of running.splice(0)) await peer.stop();
  for (const server of holders.splice(0)) await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** Writes `www/ready` (Apache and lighttpd serve the ready answer from a file). */
async function readyFile(dir: string): Promise<void> {
  await mkdir(path.join(dir, 'www'));
  await writeFile(path.join(dir, 'www', 'ready'), READY.body);
}

/** The smallest config of each peer that listens on `place.port` and answers READY. */
const TRIVIAL: Readonly<Record<PeerKind, Pick<PeerSetup, 'config' | 'prepare'>>> = {
  nginx: {
    config: (place) =>
      nginxConfig(
        place,
        `  server {
    listen 127.0.0.1:${place.port};
    location = ${READY.path} {
      return 200 ${JSON.stringify(READY.body)};
    }
  }`,
      ),
  },
  haproxy: {
    config: (place) => `global
  maxconn 64
defaults
  mode http
  timeout connect 5s
  timeout client 5s
  timeout server 5s
frontend ready
  bind 127.0.0.1:${place.port}
  http-request return status 200 content-type text/plain string ${JSON.stringify(READY.body)}
`,
  },
  apache: {
    prepare: readyFile,
    config: (place) => `ServerRoot "${place.dir}"
ServerName 127.0.0.1
Listen 127.0.0.1:${place.port}
PidFile "${path.join(place.dir, 'apache.pid')}"
DefaultRuntimeDir "${place.dir}"
Mutex file:${place.dir} default
ErrorLog "${place.errorLog}"
LoadModule mpm_event_module ${apacheModules()}/mod_mpm_event.so
LoadModule authz_core_module ${apacheModules()}/mod_authz_core.so
DocumentRoot "${path.join(place.dir, 'www')}"
<Directory "${path.join(place.dir, 'www')}">
  Require all granted
</Directory>
`,
  },
  lighttpd: {
    prepare: readyFile,
    config: (place) => `server.document-root = "${path.join(place.dir, 'www')}"
server.bind = "127.0.0.1"
server.port = ${place.port}
server.errorlog = "${place.errorLog}"
`,
  },
};

async function start(setup: PeerSetup): Promise<RunningPeer> {
  const peer = await startPeer(setup);
  running.push(peer);
  return peer;
}

/** Whether a process with this PID exists (signal 0 checks without signalling). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A port of 127.0.0.1 held by a listener of ours that drops every connection. */
async function heldPort(): Promise<number> {
  const server = net.createServer((socket) => socket.destroy());
  holders.push(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return (server.address() as AddressInfo).port;
}

describe.each(['nginx', 'haproxy', 'apache', 'lighttpd'] as const)('%s', (kind) => {
  it('starts from a trivial config, answers on its port, and is gone once stopped', { timeout: TEST_TIMEOUT_MS }, async () => {
    const peer = await start({ kind, ready: READY, ...TRIVIAL[kind] });
    expect(peer.kind).toBe(kind);
    expect(peer.origin).toBe(`http://127.0.0.1:${peer.port}`);
    expect(alive(peer.pid)).toBe(true);
    const answer = await fetch(`${peer.origin}${READY.path}`);
    expect(await answer.text()).toBe(READY.body);

    await peer.stop();
    expect(alive(peer.pid)).toBe(false);
    expect(existsSync(peer.dir)).toBe(false);
    await expect(peer.stop()).resolves.toBeUndefined();
  });
});

describe('startPeer', () => {
  it('gives up a port another process holds and starts on the next one', { timeout: TEST_TIMEOUT_MS }, async () => {
    const taken = await heldPort();
    const ports = [taken];
    const peer = await start({ kind: 'nginx', ready: READY, ...TRIVIAL.nginx, pickPort: async () => ports.shift() ?? freePort() });
    expect(peer.port).not.toBe(taken);
    expect(await (await fetch(`${peer.origin}${READY.path}`)).text()).toBe(READY.body);
  });

  it('rejects, quoting the peer\'s log for each port, when every port it tries is held', { timeout: TEST_TIMEOUT_MS }, async () => {
    const taken = await heldPort();
    const started = startPeer({ kind: 'nginx', ready: READY, ...TRIVIAL.nginx, pickPort: () => Promise.resolve(taken) });
    const error = await started.then(
      () => null,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(Error);
    const message = (error as Error).message;
    expect(message).toContain(`nginx did not start after ${START_ATTEMPTS} attempts`);
    expect(message).toContain(`port ${taken}:`);
    expect(message).toMatch(/Address already in use/);
  });

  it('rejects with what to install when the binary is not there', async () => {
    const env = { TETHER_NGINX: '/nonexistent/tether-peers/nginx' };
    await expect(startPeer({ kind: 'nginx', ready: READY, ...TRIVIAL.nginx, env })).rejects.toThrow(
      /^\/nonexistent\/tether-peers\/nginx not found: .*apt-get install --no-install-recommends nginx.*TETHER_NGINX/,
    );
  });

  it('rejects, quoting the error log, when the peer refuses its config', { timeout: TEST_TIMEOUT_MS }, async () => {
    const config = (place: PeerPlace): string => nginxConfig(place, '  no_such_directive on;');
    await expect(startPeer({ kind: 'nginx', ready: READY, config })).rejects.toThrow(/unknown directive "no_such_directive"/);
  });
});

describe('peerBinary', () => {
  it('takes the binary from the peer\'s environment variable, else Debian\'s path', () => {
    expect(peerBinary('nginx', { TETHER_NGINX: '/opt/nginx' })).toBe('/opt/nginx');
    expect(peerBinary('haproxy', { TETHER_HAPROXY: '/opt/haproxy' })).toBe('/opt/haproxy');
    expect(peerBinary('apache', { TETHER_APACHE: '/opt/apache2' })).toBe('/opt/apache2');
    expect(peerBinary('lighttpd', { TETHER_LIGHTTPD: '/opt/lighttpd' })).toBe('/opt/lighttpd');
    expect(peerBinary('nginx', {})).toBe('/usr/sbin/nginx');
    expect(peerBinary('haproxy', {})).toBe('/usr/sbin/haproxy');
    expect(peerBinary('apache', {})).toBe('/usr/sbin/apache2');
    expect(peerBinary('lighttpd', {})).toBe('/usr/sbin/lighttpd');
  });
});
