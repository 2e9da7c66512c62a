/**
 * Theory of operation: Linux counts TCP events per network namespace in /proc/net/snmp (`Tcp:`,
 * the RFC 1213 MIB) and /proc/net/netstat (`TcpExt:`, Linux's own). Each file holds pairs of
 * lines — names, then values — per prefix. A lab reads a snapshot before and after an exchange
 * and reports the difference: evidence of what the kernel did (a reset sent) that the
 * application above it may never see. The counters are namespace-wide, so other traffic on the
 * machine can add to a difference, never subtract from it. Without /proc, snapshots are `null`.
 */

import { readFile } from 'node:fs/promises';

/** Counter values by `Prefix.Name`, e.g. `TcpExt.TCPAbortOnClose`. */
export type TcpCounters = ReadonlyMap<string, number>;

/** The counter files and the prefixes read from them. */
const SOURCES = [
  { path: '/proc/net/snmp', prefix: 'Tcp' },
  { path: '/proc/net/netstat', prefix: 'TcpExt' },
] as const;

/** Parse the `prefix:` name/value line pairs of an snmp-style file. */
export function parseCounters(text: string, prefix: string): Map<string, number> {
  const out = new Map<string, number>();
  const lines = text.split('\n').filter((l) => l.startsWith(`${prefix}:`));
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const names = lines[i]!.split(/\s+/).slice(1);
    const values = lines[i + 1]!.split(/\s+/).slice(1);
    names.forEach((name, j) => out.set(`${prefix}.${name}`, Number(values[j])));
  }
  return out;
}

/** A snapshot of the TCP counters, or `null` when /proc/net/snmp cannot be read. */
export async function readTcpCounters(): Promise<TcpCounters | null> {
  const all = new Map<string, number>();
  for (const { path, prefix } of SOURCES) {
    try {
      for (const [name, value] of parseCounters(await readFile(path, 'latin1'), prefix)) all.set(name, value);
    } catch {
      return null;
    }
  }
  return all;
}

/** `after − before` for `name`, or `null` when either snapshot lacks it. */
export function counterDelta(before: TcpCounters | null, after: TcpCounters | null, name: string): number | null {
  const a = before?.get(name);
  const b = after?.get(name);
  return a === undefined || b === undefined ? null : b - a;
}
