/**
 * Theory of operation: Debian's nginx as a reverse proxy in front of a lab's servers, run from a
 * config written to a fresh temp dir, on 127.0.0.1 only, and stopped by the PID the lab spawned
 * (the same approach as packages/server/test/proxies.ts, which the server's interop tests use).
 *
 * - nginx runs in the foreground as one process (`daemon off; master_process off;`), so the child
 *   spawned is the process that serves, and SIGTERM (then SIGKILL) to its PID stops it. A process
 *   `'exit'` hook SIGKILLs it should the lab's process end first. Its pid, temp and log files stay
 *   inside the temp dir, which `stop()` removes.
 * - A route `/<name>/…` goes to the upstream `<name>`: `server 127.0.0.1:<port> max_fails=0`
 *   (a failed request never marks the only server down), an idle pool `keepalive <n>;
 *   keepalive_timeout <s>;`, and `proxy_http_version 1.1; proxy_set_header Connection "";` so
 *   the upstream connections persist. Everything else is nginx's default — notably
 *   `proxy_next_upstream error timeout` (without `non_idempotent`).
 * - The listen port is picked free, then bound by nginx: another process may take it in between,
 *   so start is tried {@link START_ATTEMPTS} times, and "ready" means nginx's own answer on
 *   {@link READY_PATH}. A missing binary is an error that says how to install it.
 *
 * Every wait has a deadline.
 */

import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';

import { sleep } from './scope.js';

/** The nginx binary: `TETHER_NGINX`, else where Debian's `nginx` package puts it. */
export function nginxBinary(env: NodeJS.ProcessEnv = process.env): string {
  return env.TETHER_NGINX ?? '/usr/sbin/nginx';
}

/** The version nginx reports (`nginx -v`: `1.22.1`), or null when it does not say. */
export function nginxVersion(bin: string = nginxBinary()): Promise<string | null> {
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

/** A running nginx. */
export interface RunningNginx {
  /** The PID spawned: the process that serves, and the one `stop()` signals. */
  readonly pid: number;
  /** Where it listens on 127.0.0.1. */
  readonly port: number;
  /** Its error log so far. */
  log(): Promise<string>;
  /** SIGTERM, then SIGKILL; removes the temp dir. Safe to call again. */
  stop(): Promise<void>;
}

/** Answered by nginx itself (never proxied): how a start tells our nginx from another process on the port. */
const READY_PATH = '/proxy-ready';
const READY_BODY = 'proxy ready';
/** Ports tried before giving up. */
const START_ATTEMPTS = 3;
/** nginx listens within milliseconds; a loaded machine gets plenty more. */
const READY_MS = 10_000;
/** How long nginx gets to exit after SIGTERM (then after SIGKILL). */
const STOP_MS = 5_000;

/** The config nginx runs from (pure): one upstream and one location per route. */
export function nginxConfig(dir: string, port: number, routes: Readonly<Record<string, NginxUpstream>>, errorLog: string): string {
  const at = (name: string): string => JSON.stringify(path.join(dir, name));
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
  return `# Written by the tether demo's labs: one process, everything inside ${dir}.
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
  keepalive_timeout 60s;
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
function probe(port: number): Promise<string | null> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: READY_PATH, agent: false, timeout: 1000 }, (res) => {
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

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  if (await exitWithin(child, STOP_MS)) return;
  child.kill('SIGKILL');
  await exitWithin(child, STOP_MS);
}

async function launch(bin: string, dir: string, attempt: number, routes: Readonly<Record<string, NginxUpstream>>): Promise<RunningNginx | { readonly failed: string }> {
  const port = await freePort();
  const conf = path.join(dir, `nginx-${attempt}.conf`);
  const errorLog = path.join(dir, `error-${attempt}.log`);
  await writeFile(conf, nginxConfig(dir, port, routes, errorLog));
  // -e: the error log from the start (until it has read the config, nginx would log to /var/log).
  const child = spawn(bin, ['-p', `${dir}/`, '-c', conf, '-e', errorLog], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.setEncoding('utf8').on('data', (s: string) => (output += s));
  child.stderr?.setEncoding('utf8').on('data', (s: string) => (output += s));
  let exited = false;
  child.once('exit', () => (exited = true));
  child.once('error', (err) => {
    exited = true;
    output += `spawn failed: ${err.message}\n`;
  });
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  const log = async (): Promise<string> => readFile(errorLog, 'utf8').catch(() => output);

  const deadline = performance.now() + READY_MS;
  while (performance.now() < deadline && !exited) {
    if ((await probe(port)) === READY_BODY && !exited && child.pid !== undefined) {
      let stopped: Promise<void> | null = null;
      return {
        pid: child.pid,
        port,
        log,
        stop: () =>
          (stopped ??= (async () => {
            try {
              await stopChild(child);
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
    await stopChild(child);
  } finally {
    process.off('exit', killOnExit);
  }
  const logged = (await log()).trim();
  return { failed: `port ${port}: ${logged === '' ? output.trim() || '(no output)' : logged}` };
}

/**
 * Start nginx on a free port of 127.0.0.1, proxying `/<name>/…` to each route's upstream, and
 * wait until it answers. Rejects, saying why, when the binary is missing or nginx does not start.
 */
export async function startNginx(routes: Readonly<Record<string, NginxUpstream>>, env: NodeJS.ProcessEnv = process.env): Promise<RunningNginx> {
  const bin = nginxBinary(env);
  if (!existsSync(bin)) throw new Error(`${bin} not found: this lab needs Debian's nginx (apt-get install --no-install-recommends nginx), or TETHER_NGINX naming one`);
  for (const name of Object.keys(routes)) {
    if (!/^[a-z0-9-]+$/.test(name)) throw new Error(`route name ${JSON.stringify(name)} must be [a-z0-9-]+`);
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tether-demo-nginx-'));
  const tried: string[] = [];
  for (let attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
    const started = await launch(bin, dir, attempt, routes);
    if (!('failed' in started)) return started;
    tried.push(started.failed);
  }
  await rm(dir, { recursive: true, force: true });
  throw new Error(`nginx did not start after ${START_ATTEMPTS} attempts:\n${tried.join('\n')}`);
}
