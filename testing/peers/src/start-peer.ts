/**
 * Theory of operation: start a Debian server (nginx, HAProxy, Apache, lighttpd) from a config
 * written to a fresh temp dir, on 127.0.0.1 only, wait until it listens, and stop it by the PID
 * spawned.
 *
 * - Each runs in the foreground as one process (nginx with `daemon off; master_process off;` in
 *   its config, HAProxy `-db`, Apache `-X`, lighttpd `-D`: see {@link LAUNCH}), so the child
 *   spawned is the process that serves, and SIGTERM (then SIGKILL) to its PID stops it. A process
 *   `'exit'` hook SIGKILLs it should the caller's process end without `stop()`.
 * - Everything it writes (config, pid file, error log, temp files, files the caller prepares)
 *   stays inside the temp dir, which `stop()` removes.
 * - The listen port is picked free (bound to port 0, then released) and then bound by the peer:
 *   another process may take it in between, so a start is tried {@link START_ATTEMPTS} times,
 *   each on a new port with a new config. "Listening" means the peer's own answer on the
 *   caller's ready path — a 200 with the expected body — not just a port that accepts.
 * - A missing binary is an error that says how to install it, never a skip; a peer that does not
 *   start is an error that quotes, for each port tried, what it logged.
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
import { setTimeout as sleep } from 'node:timers/promises';

import { missingBinaryMessage, peerBinary } from './binaries.js';
import type { PeerKind } from './binaries.js';

/** Ports tried before giving up: another process may take the free port picked before the peer binds it. */
export const START_ATTEMPTS = 3;
/** Each peer listens within milliseconds; a loaded machine gets plenty more. */
export const READY_MS = 10_000;
/** How long a peer gets to exit after SIGTERM (then after SIGKILL). */
export const STOP_MS = 5_000;
/** Between two ready probes. */
const PROBE_INTERVAL_MS = 50;
/** One ready probe: loopback answers in well under a millisecond. */
const PROBE_TIMEOUT_MS = 1_000;

/** Where one start attempt runs: what a config is written for. */
export interface PeerPlace {
  /** The peer's temp dir: its files go here, and `stop()` removes it. */
  readonly dir: string;
  /** The port on 127.0.0.1 the config must listen on. */
  readonly port: number;
  /** The file the config must send the peer's errors to (HAProxy's go to its output instead). */
  readonly errorLog: string;
}

/** How the peer binary is started from its config file: its foreground, one-process flags. */
const LAUNCH: Readonly<Record<PeerKind, (conf: string, place: PeerPlace) => readonly string[]>> = {
  // -e: the error log from the start (until it has read the config, nginx would log to /var/log).
  nginx: (conf, place) => ['-p', `${place.dir}/`, '-c', conf, '-e', place.errorLog],
  // -db: foreground, no daemon; its log (`log stdout`) is its output.
  haproxy: (conf) => ['-f', conf, '-db'],
  // -X: one process in the foreground (debug mode).
  apache: (conf) => ['-X', '-f', conf],
  // -D: foreground.
  lighttpd: (conf) => ['-D', '-f', conf],
};

/** What to start. */
export interface PeerSetup {
  readonly kind: PeerKind;
  /** The config for `place`: listen on `127.0.0.1:${place.port}`, log errors to `place.errorLog`, answer `ready`. */
  readonly config: (place: PeerPlace) => string;
  /** A GET the peer itself answers once it listens: 200 with exactly `body`. */
  readonly ready: { readonly path: string; readonly body: string };
  /** Writes what the peer serves into its dir, once, before the first attempt. */
  readonly prepare?: (dir: string) => Promise<void>;
  /** Read for the binary's override variable (default `process.env`). */
  readonly env?: NodeJS.ProcessEnv;
  /** Picks each attempt's port (default: a port of 127.0.0.1 free right now). */
  readonly pickPort?: () => Promise<number>;
}

/** A running peer. */
export interface RunningPeer {
  readonly kind: PeerKind;
  /** The PID spawned: the process that serves, and the one `stop()` signals. */
  readonly pid: number;
  /** Where it listens on 127.0.0.1. */
  readonly port: number;
  /** `http://127.0.0.1:<port>`. */
  readonly origin: string;
  /** Its temp dir (removed by `stop()`). */
  readonly dir: string;
  /** What it logged so far: its error log, or its output when it has none (HAProxy). */
  log(): Promise<string>;
  /** SIGTERM, then SIGKILL; removes the temp dir. Safe to call again. */
  stop(): Promise<void>;
}

/** A port of 127.0.0.1 free right now (bound to port 0, then released). */
export async function freePort(): Promise<number> {
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
    const req = http.get({ host: '127.0.0.1', port, path: reqPath, agent: false, timeout: PROBE_TIMEOUT_MS }, (res) => {
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

/** SIGTERM, then SIGKILL if it is still there after {@link STOP_MS}. */
async function stopChild(kind: PeerKind, child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  if (await exitWithin(child, STOP_MS)) return;
  child.kill('SIGKILL');
  if (!(await exitWithin(child, STOP_MS))) throw new Error(`${kind} (pid ${String(child.pid)}) did not exit after SIGKILL`);
}

/** Write the config for a new port, spawn, and wait (bounded) for the peer's own answer there. */
async function launch(setup: PeerSetup, binary: string, dir: string, attempt: number): Promise<RunningPeer | { readonly failed: string }> {
  const { kind } = setup;
  const port = await (setup.pickPort ?? freePort)();
  const place: PeerPlace = { dir, port, errorLog: path.join(dir, `${kind}-error-${attempt}.log`) };
  const conf = path.join(dir, `${kind}-${attempt}.conf`);
  await writeFile(conf, setup.config(place));
  const child = spawn(binary, LAUNCH[kind](conf, place), { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (output += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (output += s));
  let exited = false;
  child.once('exit', () => (exited = true));
  child.once('error', (err) => {
    exited = true;
    output += `spawn failed: ${err.message}\n`;
  });
  // Should the caller's process end without stop(), take the peer with it.
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  const log = async (): Promise<string> => {
    const logged = await readFile(place.errorLog, 'utf8').catch(() => '');
    return logged === '' ? output : logged;
  };

  const deadline = performance.now() + READY_MS;
  while (performance.now() < deadline && !exited) {
    if ((await probe(port, setup.ready.path)) === setup.ready.body && !exited && child.pid !== undefined) {
      let stopped: Promise<void> | null = null;
      return {
        kind,
        pid: child.pid,
        port,
        origin: `http://127.0.0.1:${port}`,
        dir,
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
    await sleep(PROBE_INTERVAL_MS);
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
 * Start `setup.kind` from `setup.config` on a free port of 127.0.0.1 and wait until it answers
 * `setup.ready`. Rejects, saying why, when the binary is missing or the peer does not start in
 * {@link START_ATTEMPTS} attempts.
 */
export async function startPeer(setup: PeerSetup): Promise<RunningPeer> {
  const binary = peerBinary(setup.kind, setup.env);
  if (!existsSync(binary)) throw new Error(missingBinaryMessage(setup.kind, binary));
  const dir = await mkdtemp(path.join(os.tmpdir(), `tether-peer-${setup.kind}-`));
  try {
    await setup.prepare?.(dir);
    const tried: string[] = [];
    for (let attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
      const started = await launch(setup, binary, dir, attempt);
      if (!('failed' in started)) return started;
      tried.push(started.failed);
    }
    throw new Error(`${setup.kind} did not start after ${START_ATTEMPTS} attempts:\n${tried.join('\n')}`);
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}
