/**
 * A local npm registry for release.test.ts: verdaccio (the version pinned in TOOLS, installed with
 * npm into a throwaway project), its configuration, storage and user file in one temporary
 * directory, listening on 127.0.0.1 on a free port. It has no uplink, so everything installed
 * from it is what was published to it.
 *
 * Invariants: the process is started under coreutils `timeout`, so it is gone after LIFETIME_S
 * even if this test process dies without stopping it; `stop()` ends it by its PID (SIGTERM, then
 * SIGKILL) and waits for it to exit.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

import { TOOLS, childEnv, npmInstall, writeProject } from './consumer-projects.js';

/** The longest the registry may live: the whole release test takes well under a minute. */
const LIFETIME_S = 600;

/** How long verdaccio may take to answer its first ping (it starts in one to three seconds). */
const START_TIMEOUT_MS = 60_000;

/** A running registry. */
export interface LocalRegistry {
  /** `http://127.0.0.1:<port>/` */
  readonly url: string;
  /** A token of a user that may publish `@tether/*`, for an `.npmrc`'s `_authToken`. */
  readonly token: string;
  /** What verdaccio printed, for a failure's message. */
  log(): string;
  /** Ends the process by its PID and waits for it. */
  stop(): Promise<void>;
}

/** A port nobody listens on now (the registry binds it a moment later). */
async function freePort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

/** Verdaccio's configuration; relative paths are read from the configuration file's folder. */
const CONFIG = `storage: ./storage
auth:
  htpasswd:
    file: ./htpasswd
    max_users: 1
uplinks: {}
packages:
  '@tether/*':
    access: $all
    publish: $authenticated
  '**':
    access: $all
web:
  enable: false
log: { type: stdout, format: pretty, level: warn }
`;

/** Installs verdaccio under `dir`, starts it, and registers the one user that publishes. */
export async function startLocalRegistry(dir: string): Promise<LocalRegistry> {
  writeProject(dir, {
    'package.json': `${JSON.stringify({ name: 'local-registry', private: true, dependencies: { verdaccio: TOOLS.verdaccio } }, null, 2)}\n`,
  });
  await npmInstall(dir);
  writeFileSync(path.join(dir, 'config.yaml'), CONFIG);

  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  const bin = path.join(dir, 'node_modules/verdaccio/bin/verdaccio');
  const child: ChildProcess = spawn(
    'timeout',
    ['--kill-after=5', String(LIFETIME_S), process.execPath, bin, '--config', path.join(dir, 'config.yaml'), '--listen', `127.0.0.1:${port}`],
    { cwd: dir, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = once(child, 'exit');

  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(killer);
  };

  try {
    const deadline = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`verdaccio exited with ${child.exitCode}`);
      const ok = await fetch(`${url}-/ping`).then((res) => res.ok, () => false);
      if (ok) break;
      if (Date.now() > deadline) throw new Error(`verdaccio did not answer on ${url} within ${START_TIMEOUT_MS} ms`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    // npm adduser's request: verdaccio's htpasswd plugin creates the user and returns a token.
    const res = await fetch(`${url}-/user/org.couchdb.user:tether`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'tether', password: 'first-release' }),
    });
    const body = (await res.json()) as { token?: string };
    if (!res.ok || body.token === undefined) throw new Error(`adding a user: ${res.status} ${JSON.stringify(body)}`);
    return { url, token: body.token, log: () => output, stop };
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\n${output}`, { cause: err });
  }
}
