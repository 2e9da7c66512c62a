/**
 * Theory of operation: a benchmark peer (a server under test, the client benchmark's target) in a
 * child process, forked with an IPC channel. It is ready once it sends `{ type: 'listening',
 * port }`; any other message answers the one report asked for with `ask()`. The tail of its
 * stderr is kept, so a crash says what the child printed last. It is stopped by PID: SIGTERM,
 * then SIGKILL after a grace period. Every wait has a deadline.
 */

import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { withTimeout } from './cli.js';

/** Bytes of a child's stderr kept for a crash message. */
const STDERR_TAIL = 4000;

/** What a peer sends: its port once it listens, or a report. */
export type PeerMessage<Report> = { readonly type: 'listening'; readonly port: number } | (Report & { readonly type: string });

/** How to start a peer. */
export interface PeerSpec {
  /** How the peer is named in messages (`node:http server`, `target`). */
  readonly name: string;
  /** The script to fork, and its arguments. */
  readonly entry: string;
  readonly args?: readonly string[];
  readonly execArgv?: readonly string[];
  /** Ms the peer has to start listening. */
  readonly startTimeoutMs: number;
  /** Ms between SIGTERM and SIGKILL in `stop()`. */
  readonly stopGraceMs: number;
}

/** A peer in a child process. */
export class PeerChild<Report> {
  readonly name: string;
  readonly #spec: PeerSpec;
  readonly #child: ChildProcess;
  readonly #ready: Promise<number>;
  readonly #exited: Promise<void>;
  #stderr = '';
  #stopping = false;
  #crash: string | null = null;
  #waiter: ((report: Report) => void) | null = null;
  /** The port, once it listens; 0 before. */
  port = 0;

  constructor(spec: PeerSpec) {
    this.name = spec.name;
    this.#spec = spec;
    const child = fork(spec.entry, [...(spec.args ?? [])], { execArgv: [...(spec.execArgv ?? [])], stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    this.#child = child;
    child.stdout?.resume();
    child.stderr?.on('data', (chunk: Buffer) => {
      // Keep the tail: what a crash printed last.
      this.#stderr = (this.#stderr + chunk.toString('utf8')).slice(-STDERR_TAIL);
    });
    this.#exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        if (!this.#stopping) this.#crash = `exited with ${signal ?? `code ${String(code)}`}${this.#stderr.trim() === '' ? '' : `: ${this.#stderr.trim()}`}`;
        resolve();
      });
    });
    this.#ready = new Promise((resolve, reject) => {
      child.on('message', (message: PeerMessage<Report>) => {
        if (message.type === 'listening' && 'port' in message) {
          this.port = message.port;
          resolve(message.port);
        } else {
          this.#waiter?.(message as Report);
          this.#waiter = null;
        }
      });
      void this.#exited.then(() => reject(new Error(`${this.name} ${this.#crash ?? 'exited'}`)));
    });
  }

  /** The child process (to track it for a kill on exit). */
  get child(): ChildProcess {
    return this.#child;
  }

  /** The child's process id (for its CPU time in /proc). */
  get pid(): number {
    const pid = this.#child.pid;
    if (pid === undefined) throw new Error(`${this.name} has no process id`);
    return pid;
  }

  /** How the child ended, when it ended without being asked to; null while it runs or after `stop()`. */
  crashed(): string | null {
    return this.#crash;
  }

  /** Resolves with the port once the child listens. */
  ready(): Promise<number> {
    return withTimeout(this.#ready, this.#spec.startTimeoutMs, `${this.name} start`);
  }

  /** Send `request` and resolve with the next report (`what` names it in a timeout). */
  ask(request: unknown, timeoutMs: number, what: string): Promise<Report> {
    const answer = new Promise<Report>((resolve, reject) => {
      this.#waiter = resolve;
      void this.#exited.then(() => reject(new Error(`${this.name} ${this.#crash ?? 'exited'}`)));
    });
    this.#child.send(request as object);
    return withTimeout(answer, timeoutMs, `${this.name} ${what}`);
  }

  /** SIGKILL by PID, at once. */
  kill(): void {
    this.#stopping = true;
    const child = this.#child;
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }

  /** SIGTERM by PID, SIGKILL after the grace period; resolves when the child is gone. */
  async stop(): Promise<void> {
    this.#stopping = true;
    const child = this.#child;
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(child.pid, 'SIGTERM');
    } catch {
      return;
    }
    const timer = setTimeout(() => this.kill(), this.#spec.stopGraceMs);
    await this.#exited;
    clearTimeout(timer);
  }
}
