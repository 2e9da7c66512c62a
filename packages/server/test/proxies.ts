/**
 * Theory of operation: nginx and HAProxy as reverse proxies in front of test servers, started
 * and stopped by @tether/peers (one foreground process each, from a config in a fresh temp dir,
 * on 127.0.0.1 only, stopped by its PID; see that package for the mechanism). This module holds
 * what the proxies are configured to do.
 *
 * - Both reuse their upstream connections for far longer than any test waits between requests
 *   (nginx `keepalive 32; keepalive_timeout 60s;`, HAProxy `http-reuse always` with
 *   `pool-purge-delay 60s`): an upstream's idle close is what decides when a connection ends.
 * - A route `/<name>/…` goes to the upstream registered under `name`; the path is passed on whole.
 * - "Ready" means the proxy's own answer on {@link READY_PATH}, never a proxied one.
 */

import { nginxConfig as nginxPeerConfig, startPeer } from '@tether/peers';
import type { PeerPlace, RunningPeer } from '@tether/peers';

/** Which proxy. */
export type ProxyKind = 'nginx' | 'haproxy';

/** Upstream connections a proxy keeps idle: one per request of a 32-request burst (nginx `keepalive 32`). */
export const UPSTREAM_KEEPALIVE_CONNECTIONS = 32;
/** How long a proxy keeps an idle upstream connection: far past any gap a test leaves between requests. */
export const UPSTREAM_IDLE_SECONDS = 60;

/** Answered by the proxy itself (never proxied): how a start tells our proxy from another process on the port. */
const READY_PATH = '/proxy-ready';
const READY_BODY = 'proxy ready';

/**
 * A running proxy: its PID, port, `log()` (nginx's error log, HAProxy's output: errors and
 * abnormal requests only) and `stop()` (by PID; removes its temp dir; safe to call again).
 */
export type RunningProxy = RunningPeer & { readonly kind: ProxyKind };

/** Route names (URL path prefixes) mapped to the upstream port on 127.0.0.1 each goes to. */
export type Routes = Readonly<Record<string, number>>;

function checkRouteName(name: string): void {
  if (!/^[a-z0-9-]+$/.test(name)) throw new Error(`route name ${JSON.stringify(name)} must be [a-z0-9-]+ (it is a path prefix and a config identifier)`);
}

function nginxConfig(place: PeerPlace, routes: Routes): string {
  const upstreams = Object.entries(routes).map(
    ([name, upstreamPort]) => `
  upstream ${name} {
    # max_fails=0: a failed request never marks the only server down (that would turn the next
    # requests into 502s that have nothing to do with the race under test).
    server 127.0.0.1:${upstreamPort} max_fails=0;
    keepalive ${UPSTREAM_KEEPALIVE_CONNECTIONS};
    keepalive_timeout ${UPSTREAM_IDLE_SECONDS}s;
  }`,
  );
  const locations = Object.keys(routes).map(
    (name) => `
    location /${name}/ {
      proxy_pass http://${name};
      # Keep-alive to the upstream: HTTP/1.1 and no "Connection: close" passed on.
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }`,
  );
  return nginxPeerConfig(
    place,
    `  keepalive_timeout ${UPSTREAM_IDLE_SECONDS}s;
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

function haproxyConfig(place: PeerPlace, routes: Routes): string {
  const names = Object.keys(routes);
  const uses = names.map((name) => `  use_backend ${name} if { path_beg /${name}/ }`);
  const backends = Object.entries(routes).map(
    ([name, upstreamPort]) => `
backend ${name}
  # pool-purge-delay: idle server connections are not purged for ${UPSTREAM_IDLE_SECONDS} s (default 5 s).
  server ${name} 127.0.0.1:${upstreamPort} pool-purge-delay ${UPSTREAM_IDLE_SECONDS}s`,
  );
  return `# Written by packages/server/test/proxies.ts: run in the foreground (-db), nothing outside ${place.dir}.
global
  maxconn 1024
  # Errors and abnormal requests (a 502, say) to stdout, which the test reads.
  log stdout format raw local0 info

defaults
  mode http
  log global
  option httplog
  option dontlog-normal
  timeout connect 5s
  timeout client ${UPSTREAM_IDLE_SECONDS}s
  timeout server ${UPSTREAM_IDLE_SECONDS}s
  timeout http-keep-alive ${UPSTREAM_IDLE_SECONDS}s
  # Any idle server connection serves any request, the first of a client connection included.
  http-reuse always

frontend proxy
  bind 127.0.0.1:${place.port}
  http-request return status 200 content-type text/plain string ${JSON.stringify(READY_BODY)} if { path ${READY_PATH} }
${uses.join('\n')}
${backends.join('\n')}
`;
}

/**
 * Start `kind` on a free port of 127.0.0.1, proxying `/<name>/…` to `routes[name]` with upstream
 * keep-alive, and wait until it answers. Rejects, saying why, when the binary is missing or the
 * proxy does not start.
 */
export async function startProxy(kind: ProxyKind, routes: Routes): Promise<RunningProxy> {
  for (const name of Object.keys(routes)) checkRouteName(name);
  const config = (place: PeerPlace): string => (kind === 'nginx' ? nginxConfig(place, routes) : haproxyConfig(place, routes));
  return (await startPeer({ kind, config, ready: { path: READY_PATH, body: READY_BODY } })) as RunningProxy;
}
