/**
 * Interop: real clients (undici, curl, node:http) against @tether/server over TCP on 127.0.0.1.
 * Each checks what the client sees (bodies, reuse) and what the server counted (connections,
 * pipelined requests).
 */

import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { Readable } from 'node:stream';
import { Agent, Pool, request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import type { Handler } from '../src/index.js';
import { Resources, sleep } from './tcp-helpers.js';

const resources = new Resources();
afterEach(() => resources.release());

const hello: Handler = (req, res) => {
  res.setHeader('content-type', 'text/plain');
  res.end(`hello ${req.url}`);
};

/** Echo the request body, and say how it was framed. */
const echo: Handler = async (req, res) => {
  const body = await req.bytes();
  res.setHeader('x-framing', req.headers['transfer-encoding'] === 'chunked' ? 'chunked' : `length ${String(req.headers['content-length'])}`);
  res.end(body);
};

const hasCurl = spawnSync('curl', ['--version']).status === 0;

describe('interop with undici', () => {
  it('Pool with connections: 1, pipelining: 10 gets 100 right bodies over one connection, pipelined', async () => {
    const { server, origin } = await resources.server(async (req, res) => {
      // Answer a little later so undici's next requests are already on the wire: they pipeline.
      await sleep(1);
      res.end(`hello ${req.url}`);
    });
    const pool = new Pool(origin, { connections: 1, pipelining: 10 });
    resources.defer(() => pool.destroy());
    const bodies = await Promise.all(
      Array.from({ length: 100 }, async (_, i) => {
        // undici holds back requests behind a `blocking` one (default: every non-HEAD) until its
        // head arrives; `blocking: false` lets the GETs go out back to back, as pipelining means.
        const res = await pool.request({ path: `/${i}`, method: 'GET', blocking: false });
        return `${res.statusCode} ${await res.body.text()}`;
      }),
    );
    expect(bodies).toEqual(Array.from({ length: 100 }, (_, i) => `200 hello /${i}`));
    expect(server.stats().connections.total).toBe(1);
    expect(server.stats().requests).toBe(100);
    expect(server.stats().pipelinedRequests).toBeGreaterThan(0);
  });

  it('request() POSTs a chunked stream body and a Content-Length body, and gets each echoed back', async () => {
    const { server, origin } = await resources.server(echo);
    const dispatcher = new Agent({ connections: 1 });
    resources.defer(() => dispatcher.destroy());
    // 300 KiB: past the server's 64 KiB body high-water mark, so the reader's backpressure runs.
    const payload = randomBytes(300 * 1024);
    const pieces = Array.from({ length: 30 }, (_, i) => payload.subarray(i * 10 * 1024, (i + 1) * 10 * 1024));

    const streamed = await request(`${origin}/stream`, { method: 'POST', body: Readable.from(pieces), dispatcher });
    expect(streamed.statusCode).toBe(200);
    expect(streamed.headers['x-framing']).toBe('chunked');
    expect(Buffer.from(await streamed.body.arrayBuffer()).equals(payload)).toBe(true);

    const sized = await request(`${origin}/sized`, { method: 'POST', body: payload, dispatcher });
    expect(sized.statusCode).toBe(200);
    expect(sized.headers['x-framing']).toBe(`length ${payload.length}`);
    expect(Buffer.from(await sized.body.arrayBuffer()).equals(payload)).toBe(true);

    expect(server.stats().connections.total).toBe(1);
  });
});

describe('interop with curl', () => {
  it.skipIf(!hasCurl)('curl --http1.1 with two URLs reuses one connection and prints both bodies', async () => {
    const { server, origin } = await resources.server(hello);
    const { stdout, stderr } = await new Promise<{ stdout: string; stderr: string }>((resolve, reject) => {
      const child = execFile('curl', ['-sv', '--http1.1', '--max-time', '5', `${origin}/one`, `${origin}/two`], (err, stdout, stderr) => {
        if (err !== null) reject(new Error(`curl failed: ${err.message}\n${stderr}`));
        else resolve({ stdout, stderr });
      });
      resources.defer(() => child.kill());
    });
    expect(stderr).toMatch(/Re-?using existing connection/);
    expect(stdout).toBe('hello /onehello /two');
    expect(server.stats().connections.total).toBe(1);
    expect(server.stats().requests).toBe(2);
  });
});

describe('interop with node:http', () => {
  it('an Agent with keepAlive and maxSockets: 3 sends 60 concurrent requests over at most 3 connections', async () => {
    const { server, port } = await resources.server(hello);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 3 });
    resources.defer(() => agent.destroy());
    const get = (path: string): Promise<string> =>
      new Promise((resolve, reject) => {
        http
          .get({ host: '127.0.0.1', port, path, agent }, (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => (body += chunk));
            res.on('end', () => resolve(`${res.statusCode} ${body}`));
            res.on('error', reject);
          })
          .on('error', reject);
      });
    const bodies = await Promise.all(Array.from({ length: 60 }, (_, i) => get(`/${i}`)));
    expect(bodies).toEqual(Array.from({ length: 60 }, (_, i) => `200 hello /${i}`));
    expect(server.stats().connections.total).toBeGreaterThanOrEqual(1);
    expect(server.stats().connections.total).toBeLessThanOrEqual(3);
    expect(server.stats().requests).toBe(60);
  });
});
