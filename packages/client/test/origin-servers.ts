/**
 * Theory of operation: Debian's nginx, Apache and lighttpd as origin servers for the pool, each
 * started and stopped by @tether/peers (one foreground process from a config in a fresh temp dir,
 * on 127.0.0.1 only, stopped by its PID; `TETHER_NGINX`, `TETHER_APACHE` and `TETHER_LIGHTTPD`
 * name other binaries). This module holds what each server is configured to do.
 *
 * - Each closes a connection after a set number of requests (nginx `keepalive_requests`, Apache
 *   `MaxKeepAliveRequests`, lighttpd `server.max-keep-alive-requests`) and answers
 *   `GET /r/<i>` with `hello /r/<i>\n` (nginx from its config; Apache and lighttpd from files).
 * - "Ready" means the server's own answer on `/ready`, not just a port that accepts.
 */

import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { apacheModules, nginxConfig, startPeer } from '@tether/peers';
import type { PeerPlace, RunningPeer } from '@tether/peers';

/** Which server. */
export type OriginKind = 'nginx' | 'apache' | 'lighttpd';

/** A running origin server: `origin`, `pid`, `log()`, `stop()` (by PID; safe to call again). */
export type OriginServer = RunningPeer & { readonly kind: OriginKind };

/** What the server is to do. */
export interface OriginServerOptions {
  /** The server's own setting of requests per connection (what it is called in its config). */
  readonly keepAliveRequests: number;
  /** Paths `/r/0` … `/r/<files - 1>` answered (Apache and lighttpd serve them from files). */
  readonly files: number;
}

function nginx(place: PeerPlace, o: OriginServerOptions): string {
  return nginxConfig(
    place,
    `  keepalive_requests ${o.keepAliveRequests};
  keepalive_timeout 5s;
  server {
    listen 127.0.0.1:${place.port};
    location / {
      default_type text/plain;
      return 200 "hello $uri\\n";
    }
  }`,
  );
}

function apache(place: PeerPlace, o: OriginServerOptions): string {
  const { dir } = place;
  const www = path.join(dir, 'www');
  const modules = apacheModules();
  return `# Written by packages/client/test/origin-servers.ts: one process (-X), everything inside ${dir}.
ServerRoot "${dir}"
ServerName 127.0.0.1
Listen 127.0.0.1:${place.port}
PidFile "${path.join(dir, 'apache.pid')}"
DefaultRuntimeDir "${dir}"
Mutex file:${dir} default
ErrorLog "${place.errorLog}"
LogLevel warn
LoadModule mpm_event_module ${modules}/mod_mpm_event.so
LoadModule authz_core_module ${modules}/mod_authz_core.so
LoadModule mime_module ${modules}/mod_mime.so
TypesConfig /dev/null
KeepAlive On
MaxKeepAliveRequests ${o.keepAliveRequests}
KeepAliveTimeout 5
DocumentRoot "${www}"
<Directory "${www}">
  Require all granted
  ForceType text/plain
</Directory>
`;
}

function lighttpd(place: PeerPlace, o: OriginServerOptions): string {
  return `# Written by packages/client/test/origin-servers.ts: in the foreground (-D), everything inside ${place.dir}.
server.document-root = "${path.join(place.dir, 'www')}"
server.bind = "127.0.0.1"
server.port = ${place.port}
server.errorlog = "${place.errorLog}"
server.max-keep-alive-requests = ${o.keepAliveRequests}
server.max-keep-alive-idle = 5
mimetype.assign = ( "" => "text/plain" )
`;
}

const CONFIGS: Readonly<Record<OriginKind, (place: PeerPlace, o: OriginServerOptions) => string>> = { nginx, apache, lighttpd };

/** The files Apache and lighttpd serve: `/ready` and `/r/<i>`, each `hello <path>\n`. */
async function writeFiles(dir: string, files: number): Promise<void> {
  const www = path.join(dir, 'www');
  await mkdir(path.join(www, 'r'), { recursive: true });
  await writeFile(path.join(www, 'ready'), 'hello /ready\n');
  for (let i = 0; i < files; i++) await writeFile(path.join(www, 'r', String(i)), `hello /r/${i}\n`);
}

/** Start `kind` (see the module comment). Rejects, saying why, when it cannot run. */
export async function startOriginServer(kind: OriginKind, o: OriginServerOptions): Promise<OriginServer> {
  const peer = await startPeer({
    kind,
    config: (place) => CONFIGS[kind](place, o),
    // Not just "the port accepts": the answer must be our server's (the port may have been taken).
    ready: { path: '/ready', body: 'hello /ready\n' },
    ...(kind === 'nginx' ? {} : { prepare: (dir: string) => writeFiles(dir, o.files) }),
  });
  return peer as OriginServer;
}
