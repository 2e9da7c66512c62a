/**
 * Theory of operation: the server the client benchmark loads, alone in its own process, forked
 * by `client.ts` (`fork(dist/client-target.js)`). It is the limit server (`limit-server.ts`: raw
 * node:net, one pre-built 13-byte-body response per request terminator, one write per read),
 * the least work per request any Node server can do, so that the clients are what is measured.
 *
 * It listens on 127.0.0.1, port 0, and tells its parent the port as a `listening` IPC message
 * (and as a `PORT <n>` line on stdout, for a person running it by hand). On a `counts` message
 * it answers with its counters — connections accepted, requests answered, reads that answered,
 * the most requests one read held since the previous snapshot — and the CPU time it has used.
 * The parent takes a snapshot before and after each run: the difference shows what each client
 * really put on the wire, and how busy the target was (a target near 100% of a core would be
 * the bottleneck). It exits when its parent goes away (IPC disconnect), so it can never be left
 * behind.
 */

import type { AddressInfo } from 'node:net';

import { createLimitServer, newLimitCounters } from './limit-server.js';
import type { LimitCounters } from './limit-server.js';

/** What the target sends its parent. */
export type TargetMessage =
  | { readonly type: 'listening'; readonly port: number }
  | ({ readonly type: 'counts'; /** CPU time the target has used, user + system, µs. */ readonly cpuMicros: number } & Readonly<LimitCounters>);

/** What the parent sends the target. */
export interface TargetRequest {
  readonly type: 'counts';
}

async function main(): Promise<void> {
  const counters = newLimitCounters();
  const server = createLimitServer(counters);
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
  process.stdout.write(`PORT ${port}\n`);
  const send = (message: TargetMessage): void => void process.send?.(message);
  send({ type: 'listening', port });
  process.on('message', (message: TargetRequest) => {
    if (message.type !== 'counts') return;
    const cpu = process.cpuUsage();
    send({ type: 'counts', cpuMicros: cpu.user + cpu.system, ...counters });
    // The most per read is a maximum, which cannot be diffed: it restarts with every snapshot.
    counters.maxPerRead = 0;
  });
  process.on('disconnect', () => process.exit(0));
}

main().catch((err: unknown) => {
  process.stderr.write(`client-target: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
