/**
 * Theory of operation: Debian's nginx, Apache and lighttpd as origin servers for the pool, each
 * run from a config written to a fresh temp dir, on 127.0.0.1 only, and stopped by the PID we
 * spawned.
 *
 * - Each runs in the foreground as one process (nginx `daemon off; master_process off;`, Apache
 *   `-X`, lighttpd `-D`), so the child we spawn is the process that serves, and SIGTERM (then
 *   SIGKILL) to its PID stops it. A process `'exit'` hook SIGKILLs it should the test process end
 *   first. Its pid, temp and log files stay inside the temp dir, which `stop()` removes.
 * - Each closes a connection after a set number of requests (nginx `keepalive_requests`, Apache
 *   `MaxKeepAliveRequests`, lighttpd `server.max-keep-alive-requests`) and answers
 *   `GET /r/<i>` with `hello /r/<i>\n` (nginx from its config; Apache and lighttpd from files).
 * - The listen port is picked free, then bound by the server: another process may take it in
 *   between, so start is tried {@link START_ATTEMPTS} times, and "ready" means the server's own
 *   answer on `/ready`, not just a port that accepts.
 * - A missing binary is an error that says how to install it (CI's .ci/run does), never a skip.
 *   `TETHER_NGINX`, `TETHER_APACHE` and `TETHER_LIGHTTPD` name other binaries.
 *
 * Every wait has a deadline.
 */

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** Which server. */
export type OriginKind = 'nginx' | 'apache' | 'lighttpd';

/** Each server's binary: the env override, else where its Debian package puts it. */
export const ORIGIN_BINARIES: Readonly<Record<OriginKind, string>> = {
  nginx: process.env.TETHER_NGINX ?? '/usr/sbin/nginx',
  apache: process.env.TETHER_APACHE ?? '/usr/sbin/apache2',
  lighttpd: process.env.TETHER_LIGHTTPD ?? '/usr/sbin/lighttpd',
};

/** Apache's loadable modules (Debian's apache2-bin). */
const APACHE_MODULES = process.env.TETHER_APACHE_MODULES ?? '/usr/lib/apache2/modules';

/** The Debian package of each, for the error that says how to install it. */
const PACKAGES: Readonly<Record<OriginKind, string>> = { nginx: 'nginx', apache: 'apache2', lighttpd: 'lighttpd' };

/** Ports tried before giving up: another process may take the free port we picked before the server binds it. */
const START_ATTEMPTS = 3;
/** Each listens within milliseconds; a slow CI machine gets plenty more. */
const READY_MS = 10_000;
/** How long a server gets to exit after SIGTERM (then after SIGKILL). */
const STOP_MS = 5000;

/** A running origin server. */
export interface OriginServer {
  readonly kind: OriginKind;
  /** `http://127.0.0.1:<port>`. */
  readonly origin: string;
  /** The PID we spawned: the process that serves, and the one `stop()` signals. */
  readonly pid: number;
  /** What it logged so far. */
  log(): Promise<string>;
  /** SIGTERM, then SIGKILL; removes the temp dir. Safe to call again. */
  stop(): Promise<void>;
}

/** What the server is to do. */
export interface OriginServerOptions {
  /** The server's own setting of requests per connection (what it is called in its config). */
  readonly keepAliveRequests: number;
  /** Paths `/r/0` … `/r/<files - 1>` answered (Apache and lighttpd serve them from files). */
  readonly files: number;
}

interface Launch {
  readonly args: readonly string[];
  readonly logFile: string;
}

async function nginxLaunch(dir: string, port: number, o: OriginServerOptions): Promise<Launch> {
  const at = (name: string): string => JSON.stringify(path.join(dir, name));
  const conf = path.join(dir, 'nginx.conf');
  const logFile = path.join(dir, 'error.log');
  await writeFile(
    conf,
    `# Written by packages/client/test/origin-servers.ts: one process, everything inside ${dir}.
daemon off;
master_process off;
worker_processes 1;
pid ${at('nginx.pid')};
error_log ${JSON.stringify(logFile)} warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${at('client-body')};
  proxy_temp_path ${at('proxy')};
  fastcgi_temp_path ${at('fastcgi')};
  uwsgi_temp_path ${at('uwsgi')};
  scgi_temp_path ${at('scgi')};
  keepalive_requests ${o.keepAliveRequests};
  keepalive_timeout 5s;
  server {
    listen 127.0.0.1:${port};
    location / {
      default_type text/plain;
      return 200 "hello $uri\\n";
    }
  }
}
`,
  );
  // -e: the error log from the start (until it has read the config, nginx would log to /var/log).
  return { args: ['-p', `${dir}/`, '-c', conf, '-e', logFile], logFile };
}

async function apacheLaunch(dir: string, port: number, o: OriginServerOptions): Promise<Launch> {
  const conf = path.join(dir, 'apache.conf');
  const logFile = path.join(dir, 'error.log');
  const www = path.join(dir, 'www');
  await writeFile(
    conf,
    `# Written by packages/client/test/origin-servers.ts: one process (-X), everything inside ${dir}.
ServerRoot "${dir}"
ServerName 127.0.0.1
Listen 127.0.0.1:${port}
PidFile "${path.join(dir, 'apache.pid')}"
DefaultRuntimeDir "${dir}"
Mutex file:${dir} default
ErrorLog "${logFile}"
LogLevel warn
LoadModule mpm_event_module ${APACHE_MODULES}/mod_mpm_event.so
LoadModule authz_core_module ${APACHE_MODULES}/mod_authz_core.so
LoadModule mime_module ${APACHE_MODULES}/mod_mime.so
TypesConfig /dev/null
KeepAlive On
MaxKeepAliveRequests ${o.keepAliveRequests}
KeepAliveTimeout 5
DocumentRoot "${www}"
<Directory "${www}">
  Require all granted
  ForceType text/plain
</Directory>
`,
  );
  return { args: ['-X', '-f', conf], logFile };
}

async function lighttpdLaunch(dir: string, port: number, o: OriginServerOptions): Promise<Launch> {
  const conf = path.join(dir, 'lighttpd.conf');
  const logFile = path.join(dir, 'error.log');
  await writeFile(
    conf,
    `# Written by packages/client/test/origin-servers.ts: in the foreground (-D), everything inside ${dir}.
server.document-root = "${path.join(dir, 'www')}"
server.bind = "127.0.0.1"
server.port = ${port}
server.errorlog = "${logFile}"
server.max-keep-alive-requests = ${o.keepAliveRequests}
server.max-keep-alive-idle = 5
mimetype.assign = ( "" => "text/plain" )
`,
  );
  return { args: ['-D', '-f', conf], logFile };
}

const LAUNCHERS: Readonly<Record<OriginKind, (dir: string, port: number, o: OriginServerOptions) => Promise<Launch>>> = {
  nginx: nginxLaunch,
  apache: apacheLaunch,
  lighttpd: lighttpdLaunch,
};

/** The files Apache and lighttpd serve: `/ready` and `/r/<i>`, each `hello <path>\n`. */
async function writeFiles(dir: string, files: number): Promise<void> {
  const www = path.join(dir, 'www');
  await mkdir(path.join(www, 'r'), { recursive: true });
  await writeFile(path.join(www, 'ready'), 'hello /ready\n');
  for (let i = 0; i < files; i++) await writeFile(path.join(www, 'r', String(i)), `hello /r/${i}\n`);
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

/** One GET with node:http: `status body`, or null when nothing answers. */
function probe(port: number, reqPath: string): Promise<string | null> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: reqPath, agent: false, timeout: 1000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve(`${res.statusCode ?? 0} ${body}`));
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
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  if (await exitWithin(child, STOP_MS)) return;
  child.kill('SIGKILL');
  if (!(await exitWithin(child, STOP_MS))) throw new Error(`pid ${String(child.pid)} did not exit after SIGKILL`);
}

/** Start `kind` on a free port in `dir` and wait (bounded) until it answers there; null child when it did not. */
async function attempt(kind: OriginKind, dir: string, o: OriginServerOptions): Promise<{ child: ChildProcess | null; port: number; output: string; logFile: string }> {
  const port = await freePort();
  const launch = await LAUNCHERS[kind](dir, port, o);
  const child = spawn(ORIGIN_BINARIES[kind], launch.args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (output += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (output += s));
  let exited = false;
  child.once('exit', () => (exited = true));
  child.once('error', (err) => {
    exited = true;
    output += `spawn failed: ${err.message}\n`;
  });
  const deadline = performance.now() + READY_MS;
  while (performance.now() < deadline && !exited) {
    // Not just "the port accepts": the answer must be our server's (the port may have been taken).
    if ((await probe(port, '/ready')) === '200 hello /ready\n' && !exited) return { child, port, output, logFile: launch.logFile };
    await sleep(50);
  }
  if (!exited) await stopChild(child);
  const log = await readFile(launch.logFile, 'utf8').catch(() => '');
  return { child: null, port, output: `${output}${log}`.trim(), logFile: launch.logFile };
}

/** Start `kind` (see the module comment). Rejects, saying why, when it cannot run. */
export async function startOriginServer(kind: OriginKind, o: OriginServerOptions): Promise<OriginServer> {
  const binary = ORIGIN_BINARIES[kind];
  if (!existsSync(binary)) {
    throw new Error(`${binary} not found: this test needs Debian's ${PACKAGES[kind]} (apt-get install --no-install-recommends ${PACKAGES[kind]}; .ci/run installs it)`);
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), `tether-client-${kind}-`));
  if (kind !== 'nginx') await writeFiles(dir, o.files);
  const tried: string[] = [];
  for (let i = 1; i <= START_ATTEMPTS; i++) {
    const started = await attempt(kind, dir, o);
    const child = started.child;
    if (child === null) {
      tried.push(`port ${started.port}: ${started.output || '(no output)'}`);
      continue;
    }
    const killOnExit = (): void => {
      child.kill('SIGKILL');
    };
    process.once('exit', killOnExit);
    let stopped: Promise<void> | null = null;
    return {
      kind,
      origin: `http://127.0.0.1:${started.port}`,
      pid: child.pid!,
      log: () => readFile(started.logFile, 'utf8').catch(() => ''),
      stop: () =>
        (stopped ??= (async () => {
          process.off('exit', killOnExit);
          await stopChild(child);
          await rm(dir, { recursive: true, force: true });
        })()),
    };
  }
  await rm(dir, { recursive: true, force: true });
  throw new Error(`${kind} did not start after ${START_ATTEMPTS} attempts:\n${tried.join('\n')}`);
}
