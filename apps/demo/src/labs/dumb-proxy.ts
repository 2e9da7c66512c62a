/**
 * Theory of operation: the chapter's "dumb proxy" hang, on real sockets.
 *
 *   old browser (HTTP/1.0) ──▶ proxy ──▶ tether origin server
 *
 * The browser asks for persistence the HTTP/1.0 way, `Connection: keep-alive`, and reuses the
 * connection only when the response says `Connection: keep-alive` too. Two proxies:
 *
 * - the dumb proxy (node:net, bytes only) knows one request per connection: it forwards the
 *   request head verbatim — Connection included — relays the response, and takes the server's
 *   close as the end of the response; bytes the browser sends after the first request are
 *   ignored. The origin honours the forwarded keep-alive, says so, and keeps the connection
 *   open; the browser believes the connection persists and sends its second request into a proxy
 *   that is still waiting for the server to close: it hangs until the browser's timeout.
 * - the correct proxy parses both sides with @tether/protocol (server role with `proxy: true`
 *   toward the browser, @tether/client toward the origin): it strips Connection and every field
 *   Connection names (RFC 9110 §7.6.1, `stripHopByHop`), frames the response by its length, and
 *   does not honour an HTTP/1.0 client's keep-alive (RFC 9112 §9.3: a proxy cannot tell whether
 *   an older proxy forwarded it blindly), so the browser gets `Connection: close` and opens a new
 *   connection for its second request.
 *
 * Each proxy is also tried with `Proxy-Connection: keep-alive`, Netscape's workaround: a dumb
 * proxy forwards it, the origin ignores it and closes, so nothing hangs; the correct proxy treats
 * it as hop-by-hop and does not forward it. The origin records the hop-by-hop fields it received.
 * Every wait is bounded by the browser's timeout.
 */

import net from 'node:net';

import { Pool } from '@tether/client';
import { Connection, Fields, NEED_DATA, PAUSED, parseConnection, parseContentLength, stripHopByHop } from '@tether/protocol';
import type { RequestEvent } from '@tether/protocol';
import { createServer } from '@tether/server';

import { LOOPBACK, connectTcp } from './http-wire.js';
import type { LabDefinition, LabOptions, LabResult, Measurement } from './lab.js';
import { noLog } from './lab.js';
import { Scope } from './scope.js';
import { formatMs } from './stats.js';

/** The dumb-proxy lab's title. */
export const DUMB_PROXY_TITLE = 'The dumb proxy: Connection: keep-alive forwarded blindly';

/** One request of the browser. */
export interface ProxyExchange {
  /** Ms from writing the request to the end of the response, or to giving up. */
  readonly ms: number;
  /** The status, or `null` when no response came. */
  readonly status: number | null;
  /** No complete response within the browser's timeout. */
  readonly timedOut: boolean;
  /** The response said `Connection: keep-alive`: the browser will reuse the connection. */
  readonly keepAlive: boolean;
  /** Sent on the connection of the previous request. */
  readonly reused: boolean;
}

/** Two requests of the browser through one proxy, asking for persistence with one header. */
export interface ProxyScenario {
  readonly proxy: 'dumb' | 'correct';
  readonly header: 'Connection' | 'Proxy-Connection';
  readonly first: ProxyExchange;
  readonly second: ProxyExchange;
  /** Hop-by-hop fields the origin received, as `name: value`. */
  readonly originSaw: readonly string[];
}

/** The figures of the dumb-proxy lab. */
export interface DumbProxyData {
  /** How long the browser waits for a response. */
  readonly timeoutMs: number;
  readonly dumbConnection: ProxyScenario;
  readonly dumbProxyConnection: ProxyScenario;
  readonly correctConnection: ProxyScenario;
  readonly correctProxyConnection: ProxyScenario;
  /** The dumb proxy still held its upstream connection open when the browser gave up. */
  readonly dumbUpstreamOpenAtTimeout: boolean;
  /** Bytes of later requests the dumb proxy ignored. */
  readonly dumbIgnoredBytes: number;
}

/** The browser's timeout (the issue's 2 s); quick mode 0.5 s. */
const TIMEOUT_MS = 2_000;
const QUICK_TIMEOUT_MS = 500;
/** The origin keeps idle connections far longer than the browser waits, as real servers do (minutes). */
const ORIGIN_KEEP_ALIVE_MS = 60_000;
/** A prompt answer: a loopback exchange through a proxy takes about a millisecond. */
const PROMPT_MS = 1_000;
/** The hop-by-hop fields the origin reports having received. */
const WATCHED = ['connection', 'proxy-connection', 'keep-alive'] as const;
const CRLFCRLF = Buffer.from('\r\n\r\n');

/** The origin: records the hop-by-hop fields of each request by path, answers a small page. */
async function startOrigin(scope: Scope, seen: Map<string, string[]>): Promise<number> {
  const server = scope.server(
    createServer({ keepAliveTimeout: ORIGIN_KEEP_ALIVE_MS, lingerTimeout: 100 }, (req, res) => {
      const path = new URL(req.url, 'http://origin.invalid').pathname;
      seen.set(
        path,
        WATCHED.flatMap((name) => (req.headers[name] === undefined ? [] : [`${name}: ${String(req.headers[name])}`])),
      );
      res.setHeader('content-type', 'text/plain');
      res.end(`page ${path} from the origin\n`);
    }),
  );
  return (await server.listen({ port: 0, host: LOOPBACK })).port;
}

/** The dumb proxy's observable state. */
interface DumbProxy {
  port: number;
  /** Upstream connections open now. */
  upstreamOpen: number;
  /** Bytes received after the first request head of a connection, never forwarded. */
  ignoredBytes: number;
}

/** A byte-relaying HTTP/1.0 proxy: one request per connection, response ends when the server closes. */
async function startDumbProxy(scope: Scope, originPort: number): Promise<DumbProxy> {
  const proxy: DumbProxy = { port: 0, upstreamOpen: 0, ignoredBytes: 0 };
  const server = scope.netServer(
    net.createServer((client) => {
      let head = Buffer.alloc(0);
      let upstream: net.Socket | null = null;
      client.on('data', (data: Buffer) => {
        if (upstream !== null) {
          // It already forwarded this connection's one request and waits for the server to close.
          proxy.ignoredBytes += data.length;
          return;
        }
        head = Buffer.concat([head, data]);
        const end = head.indexOf(CRLFCRLF);
        if (end < 0) return;
        const up = scope.socket(net.connect({ host: LOOPBACK, port: originPort }));
        upstream = up;
        proxy.upstreamOpen++;
        up.once('close', () => {
          proxy.upstreamOpen--;
          client.end();
        });
        up.on('data', (chunk: Buffer) => client.write(chunk));
        // Blindly: the head as received, Connection: keep-alive and all.
        up.write(head.subarray(0, end + CRLFCRLF.length));
      });
      client.once('close', () => upstream?.destroy());
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, LOOPBACK, resolve));
  proxy.port = (server.address() as net.AddressInfo).port;
  return proxy;
}

/** `http://host/path?q` → `/path?q` (origin-form for the origin); other forms unchanged. */
function originForm(target: string): string {
  if (!/^https?:\/\//i.test(target)) return target;
  const url = new URL(target);
  return `${url.pathname}${url.search}`;
}

/** A hop-by-hop-correct proxy: protocol-parsed on both sides, hop-by-hop fields stripped. */
async function startCorrectProxy(scope: Scope, originPort: number, timeoutMs: number): Promise<number> {
  const upstream = scope.pool(new Pool(`http://${LOOPBACK}:${originPort}`, { connections: 2, headersTimeout: timeoutMs, bodyTimeout: timeoutMs }));
  const server = scope.netServer(
    net.createServer((socket) => {
      // proxy: true — an HTTP/1.0 client's keep-alive is not honoured (RFC 9112 §9.3).
      const conn = new Connection('server', { proxy: true });
      let request: RequestEvent | null = null;
      let chunks: Uint8Array[] = [];
      let busy = Promise.resolve();

      const forward = async (req: RequestEvent, body: Buffer): Promise<void> => {
        // RFC 9110 §7.6.1: Connection, the fields it names, and the fixed hop-by-hop set stay here.
        const fields = stripHopByHop(req.headers).with('Via', `${req.version} tether-lab`);
        let status = 502;
        let headers = new Fields(['Content-Type', 'text/plain']);
        let payload: Uint8Array = Buffer.from('bad gateway\n');
        try {
          const res = await upstream.request({ method: req.method, path: originForm(req.target), headers: [...fields.raw], ...(body.length > 0 ? { body } : {}) });
          payload = await res.bytes();
          status = res.statusCode;
          headers = stripHopByHop(res.fields).with('Via', `1.1 tether-lab`);
        } catch {
          // The origin failed: answer 502 (the defaults above).
        }
        if (socket.destroyed) return;
        // Framed by length; `Connection: close` added when this connection does not persist.
        socket.write(conn.sendMessage({ type: 'response', status, headers }, payload));
        if (!conn.keepAlive) socket.end();
        pump();
      };

      const pump = (): void => {
        for (;;) {
          let event;
          try {
            event = conn.nextEvent();
          } catch {
            socket.destroy(); // not HTTP: a lab's browser never sends that
            return;
          }
          if (event === NEED_DATA || event === PAUSED) return;
          if (event.type === 'request') {
            request = event;
            chunks = [];
          } else if (event.type === 'data') {
            chunks.push(event.data);
          } else if (event.type === 'end-of-message' && request !== null) {
            const req = request;
            const body = Buffer.concat(chunks);
            request = null;
            // A failure to answer (a protocol misuse) ends this connection, never the process.
            busy = busy.then(() => forward(req, body)).catch(() => {
              socket.destroy();
            });
          } else if (event.type === 'connection-closed') {
            void busy.then(() => socket.end());
            return;
          }
        }
      };

      socket.on('data', (data: Buffer) => {
        conn.receiveData(data);
        pump();
      });
      socket.on('end', () => {
        conn.receiveEof();
        pump();
      });
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, LOOPBACK, resolve));
  return (server.address() as net.AddressInfo).port;
}

/** What the browser read of one response. */
interface Read {
  readonly status: number | null;
  readonly keepAlive: boolean;
  readonly timedOut: boolean;
}

/**
 * The old browser's response reader, deliberately minimal like the HTTP/1.0 clients of the
 * chapter: the head up to the blank line, then Content-Length bytes (or until close). Field
 * semantics come from @tether/protocol.
 */
function readResponse(socket: net.Socket, timeoutMs: number): Promise<Read> {
  return new Promise((resolve) => {
    let buffer = Buffer.alloc(0);
    let status: number | null = null;
    let keepAlive = false;
    let bodyEnd = Number.POSITIVE_INFINITY;
    const finish = (timedOut: boolean): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      resolve({ status: timedOut ? null : status, keepAlive: keepAlive && !timedOut, timedOut });
    };
    const onData = (data: Buffer): void => {
      buffer = Buffer.concat([buffer, data]);
      if (status === null) {
        const end = buffer.indexOf(CRLFCRLF);
        if (end < 0) return;
        const [statusLine = '', ...lines] = buffer.subarray(0, end).toString('latin1').split('\r\n');
        status = Number(/^HTTP\/1\.\d (\d{3})/.exec(statusLine)?.[1] ?? Number.NaN);
        const raw: string[] = [];
        for (const line of lines) {
          const colon = line.indexOf(':');
          if (colon > 0) raw.push(line.slice(0, colon), line.slice(colon + 1).trim());
        }
        const fields = new Fields(raw);
        // HTTP/1.0: the connection persists only when the response says keep-alive (RFC 9112 §C.2.2).
        keepAlive = parseConnection(fields.getAll('connection')).keepAlive;
        const length = fields.has('content-length') ? parseContentLength(fields.getAll('content-length')) : null;
        if (typeof length === 'number') bodyEnd = end + CRLFCRLF.length + length;
        else keepAlive = false; // no length: the body ends at close
      }
      if (buffer.length >= bodyEnd) finish(false);
    };
    const onClose = (): void => finish(status === null);
    const timer = setTimeout(() => finish(true), timeoutMs);
    socket.on('data', onData);
    socket.once('close', onClose);
  });
}

/** Two page loads by the old browser through the proxy on `proxyPort`. */
async function browse(
  scope: Scope,
  proxyPort: number,
  originPort: number,
  prefix: string,
  header: 'Connection' | 'Proxy-Connection',
  timeoutMs: number,
  onTimeout: () => void,
): Promise<[ProxyExchange, ProxyExchange]> {
  const exchanges: ProxyExchange[] = [];
  let socket = scope.socket(await connectTcp({ port: proxyPort, timeout: timeoutMs }));
  let reused = false;
  const pages = ['index.html', 'logo.gif'];
  for (const [i, page] of pages.entries()) {
    const start = performance.now();
    const request =
      `GET http://${LOOPBACK}:${originPort}/${prefix}/${page} HTTP/1.0\r\n` +
      `Host: ${LOOPBACK}:${originPort}\r\nUser-Agent: lab-browser/1.0\r\n${header}: keep-alive\r\n\r\n`;
    const reading = readResponse(socket, timeoutMs);
    socket.write(request);
    const read = await reading;
    if (read.timedOut) onTimeout();
    exchanges.push({ ms: performance.now() - start, ...read, reused });
    if (i === pages.length - 1) break;
    // Keep the connection only when the response promised it and it is still open.
    if (read.keepAlive && !socket.destroyed && socket.readable) {
      reused = true;
    } else {
      socket.destroy();
      socket = scope.socket(await connectTcp({ port: proxyPort, timeout: timeoutMs }));
      reused = false;
    }
  }
  socket.destroy();
  return [exchanges[0]!, exchanges[1]!];
}

function describe(s: ProxyScenario, timeoutMs: number): Measurement {
  const one = (e: ProxyExchange): string =>
    e.timedOut ? `no answer, gave up after ${formatMs(e.ms)}` : `${e.status ?? '?'} in ${formatMs(e.ms)}${e.keepAlive ? ' (keep-alive)' : ' (close)'}`;
  const where = s.second.reused ? 'same connection' : 'new connection';
  const saw = s.originSaw.length === 0 ? 'no hop-by-hop fields' : s.originSaw.join(', ');
  return {
    label: `${s.proxy} proxy, ${s.header}: keep-alive`,
    value: `1st ${one(s.first)} · 2nd (${where}) ${one(s.second)} · origin saw ${saw}`,
    raw: s.second.timedOut ? timeoutMs : s.second.ms,
  };
}

/** Run the dumb-proxy lab. */
export async function runDumbProxy(options: LabOptions = {}): Promise<LabResult<DumbProxyData>> {
  const log = options.log ?? noLog;
  const timeoutMs = options.quick === true ? QUICK_TIMEOUT_MS : TIMEOUT_MS;
  const scope = new Scope();
  try {
    const seen = new Map<string, string[]>();
    const originPort = await startOrigin(scope, seen);
    const dumb = await startDumbProxy(scope, originPort);
    const correctPort = await startCorrectProxy(scope, originPort, timeoutMs);
    log(`origin ${originPort}, dumb proxy ${dumb.port}, correct proxy ${correctPort}; browser timeout ${timeoutMs} ms`);

    let dumbUpstreamOpenAtTimeout = false;
    const scenario = async (proxy: 'dumb' | 'correct', header: 'Connection' | 'Proxy-Connection'): Promise<ProxyScenario> => {
      const prefix = `${proxy}-${header.toLowerCase()}`;
      const port = proxy === 'dumb' ? dumb.port : correctPort;
      const [first, second] = await browse(scope, port, originPort, prefix, header, timeoutMs, () => {
        if (proxy === 'dumb') dumbUpstreamOpenAtTimeout ||= dumb.upstreamOpen > 0;
      });
      const originSaw = [...new Set([...(seen.get(`/${prefix}/index.html`) ?? []), ...(seen.get(`/${prefix}/logo.gif`) ?? [])])];
      log(`${proxy} proxy, ${header}: ${formatMs(first.ms)}, ${second.timedOut ? 'hung' : formatMs(second.ms)}`);
      return { proxy, header, first, second, originSaw };
    };
    const dumbConnection = await scenario('dumb', 'Connection');
    const dumbProxyConnection = await scenario('dumb', 'Proxy-Connection');
    const correctConnection = await scenario('correct', 'Connection');
    const correctProxyConnection = await scenario('correct', 'Proxy-Connection');

    const prompt = (s: ProxyScenario): boolean => [s.first, s.second].every((e) => !e.timedOut && e.status === 200 && e.ms < PROMPT_MS);
    const ok =
      !dumbConnection.first.timedOut &&
      dumbConnection.second.timedOut &&
      dumbConnection.second.reused &&
      dumbConnection.second.ms >= timeoutMs * 0.9 &&
      prompt(dumbProxyConnection) &&
      prompt(correctConnection) &&
      prompt(correctProxyConnection) &&
      correctConnection.originSaw.length === 0 &&
      correctProxyConnection.originSaw.length === 0;
    return {
      name: 'dumb-proxy',
      title: DUMB_PROXY_TITLE,
      measured: [
        describe(dumbConnection, timeoutMs),
        { label: 'dumb proxy while the browser waited', value: `upstream connection ${dumbUpstreamOpenAtTimeout ? 'still open (waiting for the server to close)' : 'closed'}; ${dumb.ignoredBytes} request bytes ignored` },
        describe(dumbProxyConnection, timeoutMs),
        describe(correctConnection, timeoutMs),
        describe(correctProxyConnection, timeoutMs),
      ],
      explanation: [
        'The dumb proxy passed Connection: keep-alive to the origin, which kept the connection open; the proxy waits for a close that never comes and ignores the next request on the "kept-alive" connection, so the browser hangs until its timeout.',
        'Connection and the fields it names are hop-by-hop (RFC 9110 §7.6.1): the correct proxy strips them and frames by Content-Length; Proxy-Connection avoids the hang with a dumb proxy only because the origin ignores it.',
      ],
      ok,
      data: { timeoutMs, dumbConnection, dumbProxyConnection, correctConnection, correctProxyConnection, dumbUpstreamOpenAtTimeout, dumbIgnoredBytes: dumb.ignoredBytes },
    };
  } finally {
    await scope.close();
  }
}

/** The dumb-proxy lab: the keep-alive hang, a hop-by-hop-correct proxy, and Proxy-Connection. */
export const dumbProxyLab: LabDefinition<DumbProxyData> = {
  name: 'dumb-proxy',
  title: DUMB_PROXY_TITLE,
  shows: 'a blind proxy hangs a keep-alive browser',
  run: runDumbProxy,
  headline: (d) => {
    const second = d.dumbConnection.second;
    const slowestCorrect = Math.max(d.correctConnection.first.ms, d.correctConnection.second.ms);
    return {
      measured: `2nd request ${second.timedOut ? `hung ${formatMs(second.ms)}` : `answered in ${formatMs(second.ms)}`} · correct proxy ${formatMs(slowestCorrect)}`,
      expected: `hangs until the ${d.timeoutMs} ms timeout · correct proxy < ${PROMPT_MS} ms`,
    };
  },
};
