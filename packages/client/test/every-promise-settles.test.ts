/**
 * Every promise the pool hands out settles — request(), close(), body reads, dump() — whatever
 * the server does and whenever the caller aborts, closes or destroys. Checked where a strand
 * shows: in a child process with nothing else keeping it alive (test/fixtures/settle-everything.mjs,
 * run on the built package), which Node ends with exit code 13 when a top-level await can no
 * longer settle. The server here, in the test's process, misbehaves at random: it answers, closes
 * with or without `Connection: close`, resets, truncates bodies, never answers, closes idle
 * connections. Bounded: a fixed number of rounds, each process killed by PID past a deadline.
 */

import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ok } from './raw-server.js';
import type { RawConnection, RawRequest } from './raw-server.js';
import { Resources } from './resources.js';

const resources = new Resources();
afterEach(() => resources.release());

const CHILD = fileURLToPath(new URL('./fixtures/settle-everything.mjs', import.meta.url));
/** Rounds per child: each a pool, a few dozen requests and an end (close, destroy). */
const ROUNDS = 25;
/**
 * Seeds run (one child each): different sequences of server and caller behaviour.
 * `TETHER_SETTLE_SEEDS=7,8,9` runs others (to replay a failure, or to search longer).
 */
const SEEDS = process.env.TETHER_SETTLE_SEEDS?.split(',').map(Number) ?? [1, 2, 3];
/** A child's rounds take a few seconds (timeouts of a few hundred ms); past this it hangs. */
const CHILD_DEADLINE_MS = 60_000;

/** mulberry32, as in the child: the server's choices are replayable from the seed. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A server that, for each request, does one of the things servers do, at random. */
function misbehaving(seed: number): (req: RawRequest, conn: RawConnection) => void {
  const random = prng(seed);
  return (req, conn) => {
    const s = conn.socket;
    const body = `hello ${req.path}`;
    const head = (extra: string[] = []): string => `HTTP/1.1 200 OK\r\n${extra.map((l) => `${l}\r\n`).join('')}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
    const full = (extra: string[] = []): string => (req.method === 'HEAD' ? head(extra) : ok(body, extra));
    const roll = random();
    if (roll < 0.55) {
      s.write(full());
      // Now and then an idle close, unannounced, racing the next request.
      if (random() < 0.1) setTimeout(() => s.end(), Math.floor(random() * 30));
    } else if (roll < 0.65) {
      s.write(full(['Connection: close']));
      s.end();
    } else if (roll < 0.72) {
      s.destroy();
    } else if (roll < 0.79) {
      s.end();
    } else if (roll < 0.86 && req.method !== 'HEAD') {
      // Truncated: the head promises more than is sent.
      s.write(`HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n${body}`);
      s.end();
    } else if (roll < 0.93) {
      // Never answered: the client's headers timeout or an abort ends it.
    } else {
      setTimeout(() => {
        if (!s.destroyed && s.writable) s.write(full());
      }, Math.floor(random() * 50));
    }
  };
}

/** Run the child against `origin`; its exit code (or signal) and output. */
function runChild(origin: string, seed: number): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, origin, String(ROUNDS), String(seed)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_DEADLINE_MS);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

describe('every promise the pool hands out settles', () => {
  it.each(SEEDS)('random server failures, aborts, close() and destroy(), seed %i: the process ends with every promise settled', { timeout: CHILD_DEADLINE_MS + 10_000 }, async (seed) => {
    const server = await resources.raw(misbehaving(seed));
    const { code, signal, stdout, stderr } = await runChild(server.origin, seed);
    const what = `exit ${String(code)} ${String(signal)}\n${stdout}\n${stderr}`;
    // 13: a top-level await that could no longer settle; SIGKILL: hung past the deadline.
    expect(code, what).toBe(0);
    const summary = JSON.parse(stdout.trim().split('\n').at(-1)!) as { created: number; settled: number };
    expect(summary.created, what).toBeGreaterThan(ROUNDS * 5);
    expect(summary.settled, what).toBe(summary.created);
  });
});
