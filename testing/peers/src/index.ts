/**
 * @tether/peers: Debian's nginx, HAProxy, Apache and lighttpd as peers of tether's tests and
 * labs — started from a config in a temp dir on 127.0.0.1, stopped by PID — and node:http as the
 * upstream behind them. Private to the workspace: the published packages take it as a
 * devDependency only.
 *
 * @packageDocumentation
 */
export { PEER_BINARIES, apacheModules, missingBinaryMessage, peerBinary } from './binaries.js';
export type { PeerBinary, PeerKind } from './binaries.js';
export { nginxConfig } from './nginx-config.js';
export { listenNodeUpstream } from './node-upstream.js';
export type { NodeUpstream } from './node-upstream.js';
export { READY_MS, START_ATTEMPTS, STOP_MS, freePort, startPeer } from './start-peer.js';
export type { PeerPlace, PeerSetup, RunningPeer } from './start-peer.js';
