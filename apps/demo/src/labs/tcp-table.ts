/**
 * Theory of operation: Linux lists every TCP socket of the network namespace in /proc/net/tcp
 * (IPv4) and /proc/net/tcp6 (IPv6), one line each: `sl local rem st …`, with addresses as hex
 * words in host byte order and ports as big-endian hex. This module reads both tables into
 * entries, and answers the labs' questions about them: how many sockets of a given port are in
 * TIME_WAIT, and on which side of the connection (the side whose local port is the server's port
 * is the server). Where the tables do not exist (macOS, Windows, a sandbox without /proc), the
 * readers return `null` and the labs say they cannot see TIME_WAIT.
 */

import { readFile } from 'node:fs/promises';

import { sleep } from './scope.js';

/** The IPv4 and IPv6 socket tables. */
export const TCP_TABLE_PATHS = ['/proc/net/tcp', '/proc/net/tcp6'] as const;

/** TCP states by the hex code of the `st` column (include/net/tcp_states.h). */
const STATES = {
  '01': 'ESTABLISHED',
  '02': 'SYN_SENT',
  '03': 'SYN_RECV',
  '04': 'FIN_WAIT1',
  '05': 'FIN_WAIT2',
  '06': 'TIME_WAIT',
  '07': 'CLOSE',
  '08': 'CLOSE_WAIT',
  '09': 'LAST_ACK',
  '0A': 'LISTEN',
  '0B': 'CLOSING',
  '0C': 'NEW_SYN_RECV',
} as const;

/** A TCP state as Linux names it. */
export type TcpState = (typeof STATES)[keyof typeof STATES];

/** States between the first FIN and TIME_WAIT or CLOSED: a close still in progress. */
const CLOSING_STATES: ReadonlySet<TcpState> = new Set(['FIN_WAIT1', 'FIN_WAIT2', 'CLOSING', 'LAST_ACK']);

/** One socket of the table. */
export interface TcpEntry {
  readonly localAddress: string;
  readonly localPort: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly state: TcpState;
}

/** TIME_WAIT sockets of one server port, by the side that holds them. */
export interface TimeWaitCount {
  /** Held by the server (local port = the server's port): the server closed first. */
  readonly server: number;
  /** Held by clients (remote port = the server's port): the client closed first. */
  readonly client: number;
}

/** `0100007F` → `127.0.0.1`: four bytes of a little-endian 32-bit word. */
function ipv4(hex: string): string {
  const n = Number.parseInt(hex, 16);
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, n >>> 24].join('.');
}

/** 32 hex digits (four host-order words) → an IPv6 address; `::ffff:a.b.c.d` kept readable. */
function ipv6(hex: string): string {
  const bytes: number[] = [];
  for (let w = 0; w < 4; w++) {
    const word = hex.slice(w * 8, w * 8 + 8);
    for (let b = 3; b >= 0; b--) bytes.push(Number.parseInt(word.slice(b * 2, b * 2 + 2), 16));
  }
  const mapped = bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  if (mapped) return `::ffff:${bytes.slice(12).join('.')}`;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  return groups.join(':');
}

/** `ADDR:PORT` in the table's hex form → address and port. */
function endpoint(field: string): { address: string; port: number } {
  const colon = field.indexOf(':');
  const addr = field.slice(0, colon);
  return { address: addr.length === 8 ? ipv4(addr) : ipv6(addr), port: Number.parseInt(field.slice(colon + 1), 16) };
}

/** Parse the text of /proc/net/tcp or /proc/net/tcp6 (header line first). */
export function parseTcpTable(text: string): TcpEntry[] {
  const entries: TcpEntry[] = [];
  const lines = text.split('\n');
  for (let i = 1; i < lines.length; i++) {
    const fields = lines[i]!.trim().split(/\s+/);
    if (fields.length < 4) continue;
    const state = STATES[fields[3] as keyof typeof STATES] as TcpState | undefined;
    if (state === undefined) continue;
    const local = endpoint(fields[1]!);
    const remote = endpoint(fields[2]!);
    entries.push({ localAddress: local.address, localPort: local.port, remoteAddress: remote.address, remotePort: remote.port, state });
  }
  return entries;
}

/** Every TCP socket (IPv4 and IPv6), or `null` when /proc/net/tcp cannot be read. */
export async function readTcpTable(): Promise<TcpEntry[] | null> {
  const entries: TcpEntry[] = [];
  let readable = false;
  for (const path of TCP_TABLE_PATHS) {
    try {
      entries.push(...parseTcpTable(await readFile(path, 'latin1')));
      readable = true;
    } catch {
      // tcp6 is missing when IPv6 is disabled; both missing means no /proc.
    }
  }
  return readable ? entries : null;
}

/** Whether `address` is a loopback address (IPv4, IPv4-mapped or ::1). */
export function isLoopback(address: string): boolean {
  return address.startsWith('127.') || address.startsWith('::ffff:127.') || address === '0:0:0:0:0:0:0:1';
}

/** TIME_WAIT sockets of loopback connections to `serverPort`, by the side that holds them. */
export function timeWaitBySide(entries: readonly TcpEntry[], serverPort: number): TimeWaitCount {
  let server = 0;
  let client = 0;
  for (const e of entries) {
    if (e.state !== 'TIME_WAIT' || !isLoopback(e.localAddress)) continue;
    if (e.localPort === serverPort) server++;
    else if (e.remotePort === serverPort) client++;
  }
  return { server, client };
}

/** Whether a socket of a connection to or from `serverPort` is still between FIN and TIME_WAIT. */
function closing(entries: readonly TcpEntry[], serverPort: number): boolean {
  return entries.some((e) => CLOSING_STATES.has(e.state) && (e.localPort === serverPort || e.remotePort === serverPort));
}

/** Ms between two reads of the table while closes complete. */
const SETTLE_POLL_MS = 20;

/**
 * The TIME_WAIT count of `serverPort` once every close in progress on it has finished (both FINs
 * acknowledged), waiting at most `timeoutMs`; `null` without /proc.
 */
export async function settledTimeWait(serverPort: number, timeoutMs: number): Promise<TimeWaitCount | null> {
  const end = performance.now() + timeoutMs;
  for (;;) {
    const entries = await readTcpTable();
    if (entries === null) return null;
    if (!closing(entries, serverPort) || performance.now() >= end) return timeWaitBySide(entries, serverPort);
    await sleep(SETTLE_POLL_MS);
  }
}
