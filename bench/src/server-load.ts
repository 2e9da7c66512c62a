/**
 * Theory of operation: what the server benchmarks (`server.ts`, `server-shapes.ts`,
 * `frameworks.ts`) share: a server under test alone in a child process of its own
 * (`server-child.ts`), started, checked with one GET of a route and stopped; wrk run to
 * completion within a bound, its output read; the server's CPU time read from `/proc`; and the
 * pipelining script wrk runs for a route.
 *
 * Invariants: every child process (servers and wrk) is tracked from the moment it is spawned and
 * killed by PID when the benchmark ends, fails or is interrupted (`killAllOnExit`); every wait is
 * bounded (a server that does not listen within 15 s, a wrk run that outlives its duration by
 * 20 s, a GET not answered within 5 s). Importing this module starts nothing.
 */

import { errorText, withTimeout } from './cli.js';
import { PeerChild } from './peer-child.js';
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { arch, cpus, platform, tmpdir } from 'node:os';
import { performance } from 'node:perf_hooks';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import type { ChildMessage, ParentMessage, ServerKind } from './server-child.js';
import type { ShapeId } from './shapes.js';

// ---------------------------------------------------------------------------------------------
// Parameters.

/** An untimed run before each measured one, so every server is measured with its JIT warm. */
export const WARMUP_SECONDS = 1;
/** One wrk thread: wrk is C and needs one core for this load; the server gets the other. */
export const WRK_THREADS = 1;
/** Connections wrk keeps open: the issue's figure. */
export const WRK_CONNECTIONS = 50;
/** Requests per write in the pipelined scenario: the issue's figure (and wrk's pipeline.lua). */
export const PIPELINE_DEPTH = 10;
/** Keep-alive timeout of every server under load: node:http's default. */
export const KEEP_ALIVE_TIMEOUT_MS = 5_000;
/** wrk gets its duration plus this before it is killed. */
const WRK_GRACE_MS = 20_000;
const START_TIMEOUT_MS = 15_000;
const STOP_GRACE_MS = 2_000;
const CHECK_TIMEOUT_MS = 5_000;

/** wrk's scripts/pipeline.lua for `GET path`, fixed at {@link PIPELINE_DEPTH} requests per write. */
function pipelineLua(path: string): string {
  return `-- ${PIPELINE_DEPTH} pipelined GET ${path} per write (wrk's pipeline.lua pattern)
init = function(args)
  local r = {}
  for i = 1, ${PIPELINE_DEPTH} do r[i] = wrk.format(nil, ${JSON.stringify(path)}) end
  req = table.concat(r)
end
request = function() return req end
`;
}

/** A temporary directory holding `pipeline.lua`; `remove()` deletes it. */
export interface LuaScript {
  readonly path: string;
  remove(): void;
}

/** Write wrk's pipelining script for `GET path` (default `/`) to a fresh temporary directory. */
export function writePipelineLua(path = '/'): LuaScript {
  const dir = mkdtempSync(join(tmpdir(), 'tether-bench-'));
  const file = join(dir, 'pipeline.lua');
  writeFileSync(file, pipelineLua(path));
  return { path: file, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

// ---------------------------------------------------------------------------------------------
// Child processes: every one is tracked, and killed by PID however the benchmark ends.

const live = new Set<ChildProcess>();

function track(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
}

function running(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

function killNow(child: ChildProcess): void {
  if (child.pid === undefined || !running(child)) return;
  try {
    process.kill(child.pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

/** SIGKILL every child still running, by PID. */
export function killAll(): void {
  for (const child of live) killNow(child);
}

/** Kill every child when this process exits or is interrupted (SIGINT, SIGTERM). */
export function killAllOnExit(): void {
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      killAll();
      process.exit(signal === 'SIGINT' ? 130 : 143);
    });
  }
}

const CHILD_ENTRY = fileURLToPath(new URL('./server-child.js', import.meta.url));

/** What a child reports of its memory. */
export type MemoryReport = Omit<Extract<ChildMessage, { type: 'memory' }>, 'type'>;

/** Which server a child runs, and how. */
export interface ChildSpec {
  readonly kind: ServerKind;
  /** How the server is named in messages. */
  readonly label: string;
  readonly keepAliveTimeout: number;
  /** The handler (`shapes.ts`); default `hello`, the one `server.ts` loads. */
  readonly shape?: ShapeId;
  /** tether only: the `index.js` of the @tether/server build to load, instead of this workspace's. */
  readonly tetherEntry?: string;
}

/** One server under test, in its own process. */
export class ServerChild extends PeerChild<MemoryReport> {
  readonly kind: ServerKind;
  readonly label: string;

  constructor(spec: ChildSpec) {
    const args = [spec.kind, String(spec.keepAliveTimeout), spec.shape ?? 'hello'];
    if (spec.tetherEntry !== undefined) args.push(pathToFileURL(spec.tetherEntry).href);
    super({ name: `${spec.label} server`, entry: CHILD_ENTRY, args, execArgv: ['--expose-gc'], startTimeoutMs: START_TIMEOUT_MS, stopGraceMs: STOP_GRACE_MS });
    this.kind = spec.kind;
    this.label = spec.label;
    track(this.child);
  }

  /** The child's memory after two full collections, and its open connections. */
  async memory(): Promise<MemoryReport> {
    const ask: ParentMessage = { type: 'memory' };
    const { rss, heapUsed, external, arrayBuffers, connections } = await this.ask(ask, 30_000, 'memory report');
    return { rss, heapUsed, external, arrayBuffers, connections };
  }
}

/** A child running `spec`, once it listens (stopped again if it does not). */
export async function startServer(spec: ChildSpec): Promise<ServerChild> {
  const server = new ServerChild(spec);
  try {
    await server.ready();
  } catch (err) {
    await server.stop();
    throw err;
  }
  return server;
}

/**
 * One GET `path` (default `/`) on a fresh connection: the answer must be 200 with exactly
 * `body`, and with `contentType` when one is given.
 */
export function checkGet(port: number, body: string, contentType?: string, path = '/'): Promise<void> {
  const check = new Promise<void>((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let got = '';
      res.setEncoding('latin1');
      res.on('data', (chunk: string) => (got += chunk));
      res.on('end', () => {
        const type = res.headers['content-type'];
        if (res.statusCode === 200 && got === body && (contentType === undefined || type === contentType)) resolve();
        else {
          const expected = `200 ${JSON.stringify(body)}${contentType === undefined ? '' : ` (${contentType})`}`;
          reject(new Error(`GET ${path} answered ${String(res.statusCode)} ${JSON.stringify(got.slice(0, 80))} (${String(type)}), expected ${expected}`));
        }
      });
      res.on('error', reject);
    });
    req.on('error', reject);
  });
  return withTimeout(check, CHECK_TIMEOUT_MS, `GET ${path} check`);
}

/**
 * The `index.js` of a @tether/server build, from a path to its `dist` directory, to the package
 * (`packages/server`), or to a repository root or git worktree holding it; fails naming what was
 * tried. The build must sit where it was built: it imports @tether/protocol through its own
 * `node_modules`.
 */
export function serverEntry(path: string, fail: (message: string) => never): string {
  const root = resolve(path);
  const tried = [join(root, 'index.js'), join(root, 'dist', 'index.js'), join(root, 'packages', 'server', 'dist', 'index.js')];
  const found = tried.find((p) => existsSync(p) && existsSync(join(p, '..', 'server-connection.js')));
  if (found === undefined) fail(`no @tether/server build at ${root} (tried ${tried.join(', ')}); build it first (pnpm install --frozen-lockfile && pnpm build)`);
  return found;
}

// ---------------------------------------------------------------------------------------------
// CPU time.

/** Clock ticks per second, the unit of /proc/<pid>/stat's times (`getconf CLK_TCK`, 100 almost everywhere). */
export function clockTicksPerSecond(): number {
  try {
    const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isSafeInteger(n) && n > 0 ? n : 100;
  } catch {
    return 100;
  }
}

/** A process's CPU time so far, in clock ticks, all its threads (V8's GC and compiler threads too). */
export interface CpuTicks {
  readonly user: number;
  readonly system: number;
}

/**
 * `utime` and `stime` of process `pid`: fields 14 and 15 of `/proc/<pid>/stat` (proc(5)). The
 * second field, the command name in parentheses, may itself hold spaces and parentheses, so the
 * fields are counted from the last `)`: what follows it starts at field 3.
 */
export function cpuTicks(pid: number): CpuTicks {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const user = Number(fields[14 - 3]);
  const system = Number(fields[15 - 3]);
  if (!Number.isSafeInteger(user) || !Number.isSafeInteger(system)) throw new Error(`cannot read utime and stime in /proc/${pid}/stat: ${stat.slice(0, 200)}`);
  return { user, system };
}

// ---------------------------------------------------------------------------------------------
// wrk.

/** Whether wrk is on the PATH. */
function haveWrk(): boolean {
  try {
    // `which wrk`, in its POSIX spelling (works where `which` is not installed).
    execFileSync('sh', ['-c', 'command -v wrk'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** wrk's first line of `wrk --version`, or `unknown`. */
function wrkVersion(): string {
  try {
    // `wrk --version` prints its banner and usage, then exits with status 1.
    return execFileSync('sh', ['-c', 'wrk --version 2>&1 || true'], { encoding: 'utf8' }).split('\n')[0]?.trim() ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/**
 * Without wrk on the PATH, say so and how to install it (with `json`, as one JSON document) and
 * return true: the benchmark is skipped and exits 0. `name` is the script's (`server-shapes`),
 * `what` the benchmark's in prose (`the server benchmark`).
 */
export function skippedWithoutWrk(name: string, what: string, json: boolean): boolean {
  if (haveWrk()) return false;
  const message = `wrk not found: ${what} needs it — install it with \`apt-get install -y wrk\` (Debian/Ubuntu) and run again; skipped.`;
  if (json) process.stdout.write(`${JSON.stringify({ skipped: message })}\n`);
  else process.stdout.write(`\n@tether/bench ${name}: ${message}\n`);
  return true;
}

/** Where a load benchmark ran: Node, platform, CPU, wrk. */
export interface LoadEnvironment {
  readonly node: string;
  readonly platform: string;
  readonly cpu: string;
  readonly cores: number;
  readonly wrk: string;
}

/** This machine's {@link LoadEnvironment}. */
export function loadEnvironment(): LoadEnvironment {
  return {
    node: process.version,
    platform: `${platform()} ${arch()}`,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    wrk: wrkVersion(),
  };
}

/** How often {@link runWrk} reads wrk's own CPU time while it runs. */
const WRK_CPU_SAMPLE_MS = 100;

/** What a wrk run left: its stdout, and how busy wrk itself was. */
export interface WrkRun {
  readonly out: string;
  /**
   * wrk's own CPU time over the wall time it was sampled (1 = its one thread busy throughout),
   * read from `/proc/<pid>/stat` every {@link WRK_CPU_SAMPLE_MS} ms while it ran; null when
   * fewer than two readings a second apart were taken. Near 1, wrk is the bottleneck: the
   * server's req/s is wrk's, not the server's.
   */
  readonly wrkCpuShare: number | null;
}

/** Run wrk to completion (killed after its duration + {@link WRK_GRACE_MS}); resolves with its stdout and CPU share. */
export function runWrk(args: readonly string[], seconds: number, ticksPerSecond = 100): Promise<WrkRun> {
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    track(child);
    let out = '';
    let err = '';
    let first: { at: number; ticks: number } | null = null;
    let last: { at: number; ticks: number } | null = null;
    const sampler = setInterval(() => {
      if (child.pid === undefined || child.exitCode !== null) return;
      try {
        const t = cpuTicks(child.pid);
        const reading = { at: performance.now(), ticks: t.user + t.system };
        first ??= reading;
        last = reading;
      } catch {
        // Gone between the check and the read: the readings so far stand.
      }
    }, WRK_CPU_SAMPLE_MS);
    const share = (): number | null => {
      if (first === null || last === null || last.at - first.at < 1000) return null;
      return (last.ticks - first.ticks) / ticksPerSecond / ((last.at - first.at) / 1000);
    };
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString('utf8')));
    const timer = setTimeout(() => killNow(child), seconds * 1000 + WRK_GRACE_MS);
    child.once('error', (e) => {
      clearTimeout(timer);
      clearInterval(sampler);
      reject(e);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      clearInterval(sampler);
      if (code === 0) resolve({ out, wrkCpuShare: share() });
      else reject(new Error(`wrk ${args.join(' ')} ended with ${signal ?? `code ${String(code)}`}: ${(err + out).trim()}`));
    });
  });
}

/** What a wrk run printed. */
export interface WrkNumbers {
  readonly requestsPerSec: number;
  /** Responses wrk read in full during the run. */
  readonly requests: number;
  readonly seconds: number;
  /** From `--latency`; per batch of {@link PIPELINE_DEPTH} in the pipelined scenario. */
  readonly latencyMs: { readonly p50: number; readonly p75: number; readonly p90: number; readonly p99: number };
  readonly socketErrors: { readonly connect: number; readonly read: number; readonly write: number; readonly timeout: number };
  readonly non2xx: number;
  /** wrk's whole output, kept (in --json) when its percentiles are out of order (p99 below p90: a wrk histogram quirk seen with pipelining). */
  readonly raw?: string;
}

/** wrk prints durations with a unit: us, ms, s, m or h. */
function toMs(value: string, unit: string): number {
  const scale: Readonly<Record<string, number>> = { us: 1e-3, ms: 1, s: 1e3, m: 60e3, h: 3600e3 };
  const factor = scale[unit];
  if (factor === undefined) throw new Error(`wrk: unknown time unit ${JSON.stringify(unit)}`);
  return Number(value) * factor;
}

/** The figures in wrk's output (run with `--latency`). */
export function parseWrk(out: string): WrkNumbers {
  const need = (re: RegExp, what: string): RegExpExecArray => {
    const m = re.exec(out);
    if (m === null) throw new Error(`cannot find ${what} in wrk's output:\n${out}`);
    return m;
  };
  const percentile = (p: number): number => {
    const m = need(new RegExp(`^\\s+${p}%\\s+([\\d.]+)(us|ms|s|m|h)\\s*$`, 'm'), `the ${p}% latency`);
    return toMs(m[1]!, m[2]!);
  };
  const total = need(/(\d+) requests in ([\d.]+)(us|ms|s|m|h)/, 'the request count');
  // Absent when there were none.
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  const latencyMs = { p50: percentile(50), p75: percentile(75), p90: percentile(90), p99: percentile(99) };
  return {
    ...(latencyMs.p99 < latencyMs.p90 ? { raw: out } : {}),
    requestsPerSec: Number(need(/Requests\/sec:\s+([\d.]+)/, 'Requests/sec')[1]),
    requests: Number(total[1]),
    seconds: toMs(total[2]!, total[3]!) / 1000,
    latencyMs,
    socketErrors: {
      connect: Number(errors?.[1] ?? 0),
      read: Number(errors?.[2] ?? 0),
      write: Number(errors?.[3] ?? 0),
      timeout: Number(errors?.[4] ?? 0),
    },
    non2xx: Number(non2xx?.[1] ?? 0),
  };
}

/** `err`'s message, for a result table (first line). */
export const firstLine = (err: unknown): string => errorText(err).split('\n')[0]!.slice(0, 100);
