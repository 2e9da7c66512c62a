/**
 * Theory of operation: the part of an nginx config that makes it a peer {@link startPeer} can
 * run and stop, around the `http { … }` content the caller writes (what its test is about).
 *
 * - `daemon off; master_process off; worker_processes 1;`: one process in the foreground, so the
 *   PID spawned is the process that serves, and a signal to it stops nginx.
 * - Its pid file, error log and every temp path inside the peer's own directory: nothing under
 *   /var, nothing left behind once the directory is removed.
 * - `access_log off`: the error log is the one log a test reads.
 */

import path from 'node:path';

import type { PeerPlace } from './start-peer.js';

/**
 * A whole nginx config: one foreground process with its files in `place.dir`, logging errors
 * (`warn` and worse) to `place.errorLog`, its `http` block holding `http` (directives, upstreams,
 * `server` blocks — the caller's `listen 127.0.0.1:${place.port};` among them).
 */
export function nginxConfig(place: PeerPlace, http: string): string {
  const at = (name: string): string => JSON.stringify(path.join(place.dir, name));
  return `# Written for a test peer: one process, everything inside ${place.dir}.
daemon off;
master_process off;
worker_processes 1;
pid ${at('nginx.pid')};
error_log ${JSON.stringify(place.errorLog)} warn;

events {
  worker_connections 1024;
}

http {
  access_log off;
  client_body_temp_path ${at('client-body')};
  proxy_temp_path ${at('proxy')};
  fastcgi_temp_path ${at('fastcgi')};
  uwsgi_temp_path ${at('uwsgi')};
  scgi_temp_path ${at('scgi')};
${http}
}
`;
}
