/**
 * Theory of operation: Debian's nginx as a reverse proxy in front of a lab's servers, started and
 * stopped by @tether/peers (one foreground process from a config in a fresh temp dir, on
 * 127.0.0.1 only, stopped by the PID spawned; a missing binary is an error that says how to
 * install it). This module holds what the proxy is configured to do.
 *
 * - A route `/<name>/…` goes to the upstream `<name>`: `server 127.0.0.1:<port> max_fails=0`
 *   (a failed request never marks the only server down), an idle pool `keepalive <n>;
 *   keepalive_timeout <s>;`, and `proxy_http_version 1.1; proxy_set_header Connection "";` so
 *   the upstream connections persist. Everything else is nginx's default — notably
 *   `proxy_next_upstream error timeout` (without `non_idempotent`).
 * - "Ready" means nginx's own answer on {@link READY_PATH}, never a proxied one.
 */

import { execFile } from 'node:child_process';

import { nginxConfig as nginxPeerConfig, peerBinary, startPeer } from '@tether/peers';
import type { PeerPlace, RunningPeer } from '@tether/peers';

/** The version nginx reports (`nginx -v`: `1.22.1`), or null when it does not say. */
export function nginxVersion(bin: string = peerBinary('nginx')): Promise<string | null> {
  return new Promise((resolve) => {
    execFile(bin, ['-v'], { timeout: 5_000 }, (_err, stdout, stderr) => resolve(/nginx\/(\S+)/.exec(`${stdout}${stderr}`)?.[1] ?? null));
  });
}

/** An upstream of the proxy. */
export interface NginxUpstream {
  /** The port on 127.0.0.1 it forwards to. */
  readonly port: number;
  /** Idle upstream connections nginx keeps (`keepalive`). */
  readonly keepalive: number;
  /** How long nginx keeps one idle (`keepalive_timeout`), seconds. */
  readonly keepaliveTimeoutS: number;
}

/** A running nginx: its `pid`, `port`, `log()` (its error log) and `stop()` (by PID; safe to call again). */
export type RunningNginx = RunningPeer;

/** Answered by nginx itself (never proxied): how a start tells our nginx from another process on the port. */
const READY_PATH = '/proxy-ready';
const READY_BODY = 'proxy ready';

/** The config nginx runs from (pure): one upstream and one location per route. */
export function nginxConfig(place: PeerPlace, routes: Readonly<Record<string, NginxUpstream>>): string {
  const upstreams = Object.entries(routes).map(
    ([name, u]) => `
  upstream ${name} {
    server 127.0.0.1:${u.port} max_fails=0;
    keepalive ${u.keepalive};
    keepalive_timeout ${u.keepaliveTimeoutS}s;
  }`,
  );
  const locations = Object.keys(routes).map(
    (name) => `
    location /${name}/ {
      proxy_pass http://${name};
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }`,
  );
  return nginxPeerConfig(
    place,
    `  keepalive_timeout 60s;
${upstreams.join('\n')}

  server {
    listen 127.0.0.1:${place.port};
    location = ${READY_PATH} {
      default_type text/plain;
      return 200 ${JSON.stringify(READY_BODY)};
    }
${locations.join('\n')}
  }`,
  );
}

/**
 * Start nginx on a free port of 127.0.0.1, proxying `/<name>/…` to each route's upstream, and
 * wait until it answers. Rejects, saying why, when the binary is missing or nginx does not start.
 */
export async function startNginx(routes: Readonly<Record<string, NginxUpstream>>, env: NodeJS.ProcessEnv = process.env): Promise<RunningNginx> {
  for (const name of Object.keys(routes)) {
    if (!/^[a-z0-9-]+$/.test(name)) throw new Error(`route name ${JSON.stringify(name)} must be [a-z0-9-]+`);
  }
  return startPeer({ kind: 'nginx', env, config: (place) => nginxConfig(place, routes), ready: { path: READY_PATH, body: READY_BODY } });
}
