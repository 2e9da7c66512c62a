/**
 * Theory of operation: nginx and HAProxy as reverse proxies in front of test servers, each run
 * from a config written to a fresh temp dir, on 127.0.0.1 only, and stopped by the PID we spawned.
 *
 * - Both run in the foreground as one process (nginx: `daemon off; master_process off;`,
 *   HAProxy: `-db`), so the child we spawn is the process that serves, and SIGTERM (then
 *   SIGKILL) to its PID stops it. A process `'exit'` hook SIGKILLs it should the test process
 *   end first. Their pid, temp and log files stay inside the temp dir, which `stop()` removes.
 * - Both reuse their upstream connections for far longer than any test waits between requests
 *   (nginx `keepalive 32; keepalive_timeout 60s;`, HAProxy `http-reuse always` with
 *   `pool-purge-delay 60s`): an upstream's idle close is what decides when a connection ends.
 * - A route `/<name>/…` goes to the upstream registered under `name`; the path is passed on whole.
 * - The listen port is picked free, then bound by the proxy: another process may take it in
 *   between, so start is tried {@link START_ATTEMPTS} times, and "ready" means the proxy's own
 *   answer on {@link READY_PATH}, not just a port that accepts.
 * - A missing binary is an error that says how to install it (CI's .ci/run does), never a skip.
 *
 * Every wait has a deadline.
 */

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { sleep } from './tcp-helpers.js';

/** The nginx binary: `TETHER_NGINX`, else where Debian's `nginx` package puts it. */
export const NGINX = process.env.TETHER_NGINX ?? '/usr/sbin/nginx';
/** The HAProxy binary: `TETHER_HAPROXY`, else where Debian's `haproxy` package puts it. */
export const HAPROXY = process.env.TETHER_HAPROXY ?? '/usr/sbin/haproxy';

/** Which proxy. */
export type ProxyKind = 'nginx' | 'haproxy';

/** Upstream connections a proxy keeps idle: one per request of a 32-request burst (nginx `keepalive 32`). */
export const UPSTREAM_KEEPALIVE_CONNECTIONS = 32;
/** How long a proxy keeps an idle upstream connection: far past any gap a test leaves between requests. */
export const UPSTREAM_IDLE_SECONDS = 60;

/** Answered by the proxy itself (never proxied): how a start tells our proxy from another process on the port. */
const READY_PATH = '/proxy-ready';
const READY_BODY = 'proxy ready';
/** Ports tried before giving up: another process may take the free port we picked before the proxy binds it. */
const START_ATTEMPTS = 3;
/** Both proxies listen within milliseconds; a slow CI machine gets plenty more. */
const READY_MS = 10_000;
/** How long a proxy gets to exit after SIGTERM (then after SIGKILL). */
const STOP_MS = 5000;

/** A running proxy. */
export interface RunningProxy {
  readonly kind: ProxyKind;
  /** The PID we spawned: the process that serves, and the one `stop()` signals. */
  readonly pid: number;
  /** Where it listens on 127.0.0.1. */
  readonly port: number;
  /** What it logged so far: nginx's error log, HAProxy's output (errors and abnormal requests only). */
  log(): Promise<string>;
  /** SIGTERM, then SIGKILL; removes the temp dir. Safe to call again. */
  stop(): Promise<void>;
}

/** Route names (URL path prefixes) mapped to the upstream port on 127.0.0.1 each goes to. */
export type Routes = Readonly<Record<string, number>>;

interface Launch {
  readonly args: readonly string[];
  /** The file it logs to, or null when its stdout and stderr are its log. */
  readonly logFile: string | null;
}

function checkRouteName(name: string): void {
  if (!/^[a-z0-9-]+$/.test(name)) throw new Error(`route name ${JSON.stringify(name)} must be [a-z0-9-]+ (it is a path prefix and a config identifier)`);
}

function nginxConfig(dir: string, port: number, routes: Routes, errorLog: string): string {
  const at = (name: string): string => JSON.stringify(path.join(dir, name));
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
  return `# Written by packages/server/test/proxies.ts: one process, everything inside ${dir}.
daemon off;
master_process off;
worker_processes 1;
pid ${at('nginx.pid')};
error_log ${JSON.stringify(errorLog)} warn;

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
  keepalive_timeout ${UPSTREAM_IDLE_SECONDS}s;
${upstreams.join('\n')}

  server {
    listen 127.0.0.1:${port};
    location = ${READY_PATH} {
      default_type text/plain;
      return 200 ${JSON.stringify(READY_BODY)};
    }
${locations.join('\n')}
  }
}
`;
}

function haproxyConfig(dir: string, port: number, routes: Routes): string {
  const names = Object.keys(routes);
  const uses = names.map((name) => `  use_backend ${name} if { path_beg /${name}/ }`);
  const backends = Object.entries(routes).map(
    ([name, upstreamPort]) => `
backend ${name}
  # pool-purge-delay: idle server connections are not purged for ${UPSTREAM_IDLE_SECONDS} s (default 5 s).
  server ${name} 127.0.0.1:${upstreamPort} pool-purge-delay ${UPSTREAM_IDLE_SECONDS}s`,
  );
  return `# Written by packages/server/test/proxies.ts: run in the foreground (-db), nothing outside ${dir}.
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
  bind 127.0.0.1:${port}
  http-request return status 200 content-type text/plain string ${JSON.stringify(READY_BODY)} if { path ${READY_PATH} }
${uses.join('\n')}
${backends.join('\n')}
`;
}

/** A loopback port free right now (bound to port 0, then released). */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** One GET on a fresh connection: the body when the answer is 200, else null. */
function probe(port: number, reqPath: string): Promise<string | null> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: reqPath, agent: false, timeout: 1000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve(res.statusCode === 200 ? body : null));
      res.on('error', () => resolve(null));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(null));
  });
}

/** Whether `child` exited within `ms`. */
function exitWithin(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.off('exit', onExit);
      resolve(false);
    }, ms);
    const onExit = (): void => {
      clearTimeout(timer);
      resolve(true);
    };
    child.once('exit', onExit);
  });
}

/** SIGTERM, then SIGKILL if it is still there after STOP_MS. */
async function stopChild(kind: ProxyKind, child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  if (await exitWithin(child, STOP_MS)) return;
  child.kill('SIGKILL');
  if (!(await exitWithin(child, STOP_MS))) throw new Error(`${kind} (pid ${String(child.pid)}) did not exit after SIGKILL`);
}

/** Write the config for `port`, spawn, and wait (bounded) for the proxy's own answer there. */
async function launch(kind: ProxyKind, dir: string, attempt: number, routes: Routes): Promise<RunningProxy | { readonly failed: string }> {
  const port = await freePort();
  let launchSpec: Launch;
  if (kind === 'nginx') {
    const conf = path.join(dir, `nginx-${attempt}.conf`);
    const errorLog = path.join(dir, `error-${attempt}.log`);
    await writeFile(conf, nginxConfig(dir, port, routes, errorLog));
    // -e: the error log from the start (until it has read the config, nginx would log to /var/log).
    launchSpec = { args: [NGINX, '-p', `${dir}/`, '-c', conf, '-e', errorLog], logFile: errorLog };
  } else {
    const conf = path.join(dir, `haproxy-${attempt}.cfg`);
    await writeFile(conf, haproxyConfig(dir, port, routes));
    launchSpec = { args: [HAPROXY, '-f', conf, '-db'], logFile: null };
  }
  const [bin = '', ...args] = launchSpec.args;
  const child = spawn(bin, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.setEncoding('utf8').on('data', (s: string) => (output += s));
  child.stderr?.setEncoding('utf8').on('data', (s: string) => (output += s));
  let exited = false;
  child.once('exit', () => (exited = true));
  child.once('error', (err) => {
    exited = true;
    output += `spawn failed: ${err.message}\n`;
  });
  // Should the test process end without stop(), take the proxy with it.
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  const log = async (): Promise<string> => (launchSpec.logFile === null ? output : readFile(launchSpec.logFile, 'utf8').catch(() => output));

  const deadline = performance.now() + READY_MS;
  while (performance.now() < deadline && !exited) {
    if ((await probe(port, READY_PATH)) === READY_BODY && !exited) {
      const pid = child.pid;
      if (pid === undefined) break;
      let stopped: Promise<void> | null = null;
      return {
        kind,
        pid,
        port,
        log,
        stop: () =>
          (stopped ??= (async () => {
            try {
              await stopChild(kind, child);
            } finally {
              process.off('exit', killOnExit);
              await rm(dir, { recursive: true, force: true });
            }
          })()),
      };
    }
    await sleep(50);
  }
  try {
    await stopChild(kind, child);
  } finally {
    process.off('exit', killOnExit);
  }
  const logged = (await log()).trim();
  return { failed: `port ${port}: ${logged === '' ? '(no output)' : logged}` };
}

/**
 * Start `kind` on a free port of 127.0.0.1, proxying `/<name>/…` to `routes[name]` with upstream
 * keep-alive, and wait until it answers. Rejects, saying why, when the binary is missing or the
 * proxy does not start.
 */
export async function startProxy(kind: ProxyKind, routes: Routes): Promise<RunningProxy> {
  const bin = kind === 'nginx' ? NGINX : HAPROXY;
  if (!existsSync(bin)) {
    throw new Error(`${bin} not found: these tests need Debian's ${kind} (apt-get install --no-install-recommends ${kind}; .ci/run installs it)`);
  }
  for (const name of Object.keys(routes)) checkRouteName(name);
  const dir = await mkdtemp(path.join(os.tmpdir(), `tether-server-${kind}-`));
  const tried: string[] = [];
  for (let attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
    const started = await launch(kind, dir, attempt, routes);
    if (!('failed' in started)) return started;
    tried.push(started.failed);
  }
  await rm(dir, { recursive: true, force: true });
  throw new Error(`${kind} did not start after ${START_ATTEMPTS} attempts:\n${tried.join('\n')}`);
}
