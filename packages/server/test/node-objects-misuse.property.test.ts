/**
 * Property: nothing a handler does with node:http's own request and response (the `nodeObjects`
 * path, see node-exchange.ts) can crash the process, wedge a connection or desynchronise the
 * response stream.
 *
 * The same cases as the tether-objects property (handler-misuse.property.test.ts, harness in
 * misuse-harness.ts): random policy options, one or two clients (pipelined or sequential, 1–6
 * GET/HEAD/POST, the last sometimes with `Connection: close`), each request answered by a
 * generated handler program (handler-programs.ts) — misuse or a polite program — but the server
 * is `createServer({ ...options, nodeObjects: true }, handler)`, so each program runs on a real
 * `http.IncomingMessage` and `http.ServerResponse`. tether parses, orders, decides persistence
 * and Keep-Alive, runs deadlines, shutdown and linger; node's ServerResponse frames the response
 * and writes it to the socket. Reading the body reads node's stream to its end.
 *
 * Where node throws, the throw is the handler's failure: `ERR_HTTP_HEADERS_SENT` (a field or
 * writeHead after the head), `ERR_HTTP_INVALID_STATUS_CODE` (a status outside 100–999, not a
 * number), `ERR_INVALID_CHAR` / `ERR_INVALID_HTTP_TOKEN` (a bad field or reason),
 * `ERR_HTTP_CONTENT_LENGTH_MISMATCH` (more or fewer body bytes than the handler's Content-Length:
 * tether sets `strictContentLength`), `ERR_HTTP_TRAILER_INVALID`, and `ERR_STREAM_WRITE_AFTER_END`,
 * which node does not throw but passes to the write's callback and emits as the response's
 * 'error' (under node:http, with no listener, that crashes the process). tether must turn each
 * into a 500 when nothing of the response was written, or a close right after what was (after a
 * response already complete, a write after end may at most close the connection).
 *
 * Invariants that hold as on tether's own objects (each failure names the one it breaks):
 *
 * - crash: no uncaught exception and no unhandled rejection in the process during the case;
 * - order: responses come in request order (`X-Seq`), each request's handler runs at most once;
 * - stream: the response stream always parses (a client-role @tether/protocol Connection): no
 *   desynchronisation, whatever the handler's framing fields;
 * - wedge: when the first unanswered request's handler has answered, failed or is waiting on the
 *   server (its body, 'drain'), the answer arrives or the connection closes — without shutdown;
 * - failed-midway: after a response broken midway and never ended, nothing more is answered;
 * - connection-close: a response saying `Connection: close` (node's, or the handler's, which node
 *   obeys) is the last, and the server closes the connection after it (unless its handler never
 *   ended it: then shutdown does);
 * - keep-alive-max: no connection carries more than keepAliveMax responses (tether's policy
 *   closes even after a handler's `Connection: keep-alive`); an advertised `max` that is node's
 *   (from `_maxRequestsPerSocket`, set by tether) is a non-negative integer no greater than what
 *   keepAliveMax still allows, and with one connection a close by the keepAliveMax policy comes
 *   no earlier than it;
 * - valid-call-threw: a handler that makes only valid calls (a polite program) never sees one
 *   throw — an error thrown into it belongs to another response;
 * - client-error: valid requests raise no 'clientError';
 * - shutdown/stats: `close()` resolves with a sane report, no connection is left open, requests
 *   counted ≥ responses received, closes by reason sum to connections.
 *
 * Invariants that hold only in part, because node frames the response and writes a handler's own
 * fields as given (MisusePath.nodeFraming in the harness):
 *
 * - close-explained: a connection that closes with requests outstanding closes after a response
 *   saying `Connection: close`, or right after a response its handler broke midway — or after a
 *   response node's framing made the last without saying so: one whose framing ends it at the
 *   close or obliges the client to close (RFC 9112 §6.3: neither Content-Length nor
 *   Transfer-Encoding — the handler removed both, and node delimits the body by closing though it
 *   wrote `Connection: keep-alive` — or a final transfer coding other than chunked, or both
 *   fields); or one whose handler set its own `Connection` field or removed it, made the last by
 *   tether's policy (keepAliveMax reached, or its request said close) or by node's own rule (a
 *   204 or 304 with chunked Transfer-Encoding closes) — node then writes the handler's field,
 *   e.g. `Connection: keep-alive`, or none, and adds no `close`; the connection still closes. A
 *   response is cut short only by a handler that broke it, or at shutdown when its handler never
 *   finished it;
 * - close-and-keep-alive: no response says `Connection: close` and carries a Keep-Alive field its
 *   handler did not set (node adds Keep-Alive only beside its own `Connection: keep-alive`; a
 *   handler's own Keep-Alive is written as given, beside whatever Connection field);
 * - keep-alive-max, for `max`: a handler's own Keep-Alive is written as given, so only responses
 *   whose handler set no Keep-Alive field are checked.
 *
 * "Head sent" for a node response is node's `headersSent`: true once the head is made
 * (`writeHead`, or the first write), which may be before any byte reaches the socket. A handler
 * whose call throws after that "broke its response midway", which allows the server to close
 * after it; tether answers a 500 instead when nothing was written, which is allowed too.
 *
 * 1000 seeded cases by default (about 15 s: some 14 ms a case while they pass; a fixed seed, so a
 * failure reproduces; fast-check prints the seed, path and shrunk counterexample). A longer run,
 * e.g. 20,000 cases with a fresh seed:
 *
 *   TETHER_NODE_FUZZ_RUNS=20000 TETHER_NODE_FUZZ_SEED=$RANDOM pnpm --filter @tether/server exec vitest run test/node-objects-misuse.property.test.ts
 *
 * To replay a reported failure, set TETHER_NODE_FUZZ_SEED and TETHER_NODE_FUZZ_PATH to the seed
 * and path fast-check printed.
 */

import { it } from 'vitest';
import { createServer } from '../src/index.js';
import { checkMisuse } from './misuse-harness.js';
import type { MisusePath } from './misuse-harness.js';

const RUNS = Number(process.env.TETHER_NODE_FUZZ_RUNS ?? 1000);
/** Fixed by default so that CI failures reproduce; any integer from the environment replaces it. */
const SEED = Number(process.env.TETHER_NODE_FUZZ_SEED ?? 0x0de0b);
const PATH = process.env.TETHER_NODE_FUZZ_PATH;
/** A case takes about 15 ms on 2 cores: room for a slow machine and for shrinking a failure. */
const TEST_TIMEOUT_MS = 60_000 + RUNS * 30;

/** node:http's own request and response, framed by node. */
const NODE_OBJECTS: MisusePath = {
  serve: (options, handler) => createServer({ ...options, nodeObjects: true }, handler),
  nodeFraming: true,
};

it(
  `no handler program on node's objects crashes the process, wedges or desynchronises a connection (${RUNS} cases, seed ${SEED})`,
  () => checkMisuse(NODE_OBJECTS, { runs: RUNS, seed: SEED, path: PATH, timeoutMs: TEST_TIMEOUT_MS }),
  TEST_TIMEOUT_MS,
);
