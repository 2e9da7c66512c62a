/**
 * nginx for client tests: Debian's binary (`TETHER_NGINX` overrides the path) started by
 * @tether/peers from the config below on a free loopback port, one process, everything inside a
 * temporary directory; stopped by its PID (SIGTERM, then SIGKILL).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { nginxConfig, startPeer } from '@tether/peers';
import type { PeerPlace } from '@tether/peers';

/** What the test's nginx does. */
export interface NginxSetup {
  /** `keepalive_requests`: the N-th response on a connection says Connection: close. */
  readonly keepaliveRequests: number;
  /** Files served under `/files/` (name → content). */
  readonly files?: Readonly<Record<string, string | Uint8Array>>;
}

/** A running nginx. */
export interface Nginx {
  readonly origin: string;
  readonly pid: number;
  /** Stop it by PID and remove its directory. */
  stop(): Promise<void>;
}

function config(place: PeerPlace, setup: NginxSetup): string {
  return nginxConfig(
    place,
    `  client_max_body_size 10m;

  keepalive_requests ${setup.keepaliveRequests};
  keepalive_timeout 5s;

  gzip on;
  gzip_types text/plain;
  gzip_min_length 0;

  server {
    listen 127.0.0.1:${place.port};
    location /files/ {
      alias ${JSON.stringify(`${path.join(place.dir, 'files')}/`)};
      default_type text/plain;
    }
    location /body {
      # nginx reads and discards the body; the answer names what arrived.
      default_type text/plain;
      return 200 "$request_method $uri length=$http_content_length chunked=$http_transfer_encoding\\n";
    }
    location / {
      default_type text/plain;
      return 200 "hello $uri\\n";
    }
  }`,
  );
}

/** Start nginx as `setup` says; rejects, saying why, when it cannot run. */
export async function startNginx(setup: NginxSetup): Promise<Nginx> {
  const peer = await startPeer({
    kind: 'nginx',
    config: (place) => config(place, setup),
    // The answer must be nginx's (the port may have been taken by someone else).
    ready: { path: '/ready', body: 'hello /ready\n' },
    prepare: async (dir) => {
      await mkdir(path.join(dir, 'files'));
      for (const [name, content] of Object.entries(setup.files ?? {})) await writeFile(path.join(dir, 'files', name), content);
    },
  });
  return { origin: peer.origin, pid: peer.pid, stop: () => peer.stop() };
}
