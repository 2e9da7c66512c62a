/**
 * nginx for client tests: Debian's binary (`TETHER_NGINX` overrides the path) started from a
 * temporary config on a free loopback port, one process, everything inside a temporary
 * directory; stopped by its PID (SIGTERM, then SIGKILL). The same procedure as interop.test.ts,
 * with the config's knobs as parameters.
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

/** The nginx binary: `TETHER_NGINX`, else where Debian's `nginx` package puts it (CI's .ci/run installs it). */
export const NGINX = process.env.TETHER_NGINX ?? '/usr/sbin/nginx';

/** Ports tried before giving up: another process may take the free port we picked before nginx binds it. */
const START_ATTEMPTS = 3;
/** nginx listens within milliseconds; a slow CI machine gets plenty more. */
const READY_MS = 10_000;
/** How long nginx gets to exit after SIGTERM before SIGKILL. */
const STOP_MS = 5000;

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

function config(dir: string, port: number, errorLog: string, setup: NginxSetup): string {
  const at = (name: string): string => JSON.stringify(path.join(dir, name));
  return `# Written by packages/client/test/nginx.ts: one process, everything inside ${dir}.
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
  client_max_body_size 10m;

  keepalive_requests ${setup.keepaliveRequests};
  keepalive_timeout 5s;

  gzip on;
  gzip_types text/plain;
  gzip_min_length 0;

  server {
    listen 127.0.0.1:${port};
    location /files/ {
      alias ${JSON.stringify(`${path.join(dir, 'files')}/`)};
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

function probe(port: number): Promise<string | null> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/ready', agent: false, timeout: 1000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve(body));
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
  if (!(await exitWithin(child, STOP_MS))) throw new Error(`nginx (pid ${String(child.pid)}) did not exit after SIGKILL`);
}

/** Start nginx as `setup` says; rejects, saying why, when it cannot run. */
export async function startNginx(setup: NginxSetup): Promise<Nginx> {
  if (!existsSync(NGINX)) throw new Error(`${NGINX} not found: these tests need Debian's nginx (apt-get install --no-install-recommends nginx; .ci/run installs it)`);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tether-client-nginx-'));
  await mkdir(path.join(dir, 'files'));
  for (const [name, content] of Object.entries(setup.files ?? {})) await writeFile(path.join(dir, 'files', name), content);
  const tried: string[] = [];
  for (let attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
    const port = await freePort();
    const conf = path.join(dir, `nginx-${attempt}.conf`);
    const errorLog = path.join(dir, `error-${attempt}.log`);
    await writeFile(conf, config(dir, port, errorLog, setup));
    const child = spawn(NGINX, ['-p', `${dir}/`, '-c', conf, '-e', errorLog], { stdio: ['ignore', 'pipe', 'pipe'] });
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
      // The answer must be nginx's (the port may have been taken by someone else).
      if ((await probe(port)) === 'hello /ready\n' && !exited && child.pid !== undefined) {
        return {
          origin: `http://127.0.0.1:${port}`,
          pid: child.pid,
          stop: async () => {
            await stopChild(child);
            await rm(dir, { recursive: true, force: true });
          },
        };
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    if (!exited) await stopChild(child);
    const log = await readFile(errorLog, 'utf8').catch(() => '');
    tried.push(`port ${port}: ${(log.trim() === '' ? output : log).trim() || '(no output)'}`);
  }
  await rm(dir, { recursive: true, force: true });
  throw new Error(`nginx did not start after ${START_ATTEMPTS} attempts:\n${tried.join('\n')}`);
}
