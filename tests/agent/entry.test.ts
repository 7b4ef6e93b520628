/**
 * The node's entry (agent/entry.ts) in front of a real app on a real socket: what it passes on and
 * drops, bodies both ways byte-exact (with backpressure), 100-continue, a streamed response, the app
 * down or breaking off, a visitor going away, and what the request log records. Each holds both ways
 * into the entry: its node:http listener (direct visitors) and the streams the tunnel client opens in
 * the process (agent/entry-stream.ts), reached here through a socket bridged to them as the tunnel
 * connection bridges DATA frames.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, request, type Server } from 'node:http';
import { type AddressInfo, connect, createServer as createTcpServer, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeEntry } from '../../agent/entry.ts';
import { RequestLog, type RequestRecord } from '../../agent/request-log.ts';
import { reservePort } from '../helpers/ports.ts';

const MiB = 1024 * 1024;
const big = Buffer.from(new Uint8Array(4 * MiB).map((_, i) => (i * 31 + (i >> 9)) & 0xff));
let app: Server;
let entry: NodeEntry;
let port: number;
let via: string;
const ways: Record<string, number> = {};
const log = new RequestLog(1000);
const appSockets = new Set<import('node:net').Socket>();
let lastAbort: Promise<void> = Promise.resolve();
let streamEndedAt = 0;

const body = async (req: IncomingMessage) => {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
};

beforeAll(async () => {
  app = createServer(async (req, res) => {
    if (req.url === '/headers') {
      res.setHeader('x-pc2-node-error', 'FORGED');
      res.setHeader('Connection', 'x-secret');
      res.setHeader('x-secret', '1');
      res.setHeader('X-Mixed-Case', 'kept');
      return res.end(JSON.stringify({ headers: req.headers }));
    }
    if (req.url === '/echo') {
      const got = await body(req);
      res.writeHead(200, { 'content-length': got.length });
      return res.end(got);
    }
    if (req.url === '/big') {
      res.writeHead(200, { 'content-length': big.length });
      return res.end(big);
    }
    if (req.url === '/stream') {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: first\n\n');
      return setTimeout(() => {
        streamEndedAt = Date.now();
        res.end('data: last\n\n');
      }, 300);
    }
    if (req.url === '/broken') {
      res.writeHead(200, { 'content-length': 1000 });
      res.write('only part');
      return setTimeout(() => req.socket.destroy(), 50);
    }
    if (req.url === '/endless') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      const timer = setInterval(() => res.write(Buffer.alloc(1024)), 5);
      lastAbort = new Promise((resolve) =>
        res.on('close', () => {
          clearInterval(timer);
          resolve();
        }),
      );
      return;
    }
    res.end('ok');
  });
  app.on('connection', (s) => {
    appSockets.add(s);
    s.on('close', () => appSockets.delete(s));
  });
  app.listen(0, '127.0.0.1');
  await once(app, 'listening');
  const upstream = new URL(`http://127.0.0.1:${(app.address() as AddressInfo).port}`);
  entry = new NodeEntry({ upstream, hostHeader: 'visitor', log });
  ways.listener = await entry.listen('127.0.0.1', 0, 'test');
  ways['in-process stream'] = await bridge(entry, 'stream');
});

/** A loopback port whose connections are carried into entry.open(), as the tunnel connection does. */
async function bridge(into: NodeEntry, via: string): Promise<number> {
  const server = createTcpServer({ allowHalfOpen: true }, (socket: Socket) => {
    // The bytes are the entry's only during the call (the tunnel seals them at once): a copy to hold.
    const stream = into.open(via, (bytes) => socket.write(Buffer.from(bytes)));
    socket.on('data', (chunk: Buffer) => {
      if (!stream.write(chunk)) socket.pause();
    });
    stream.on('drain', () => socket.resume());
    socket.on('drain', () => stream.resume());
    socket.on('end', () => stream.end());
    stream.on('end', () => socket.end());
    stream.on('close', () => socket.destroy());
    socket.on('close', () => stream.destroy());
    socket.on('error', () => {});
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  bridges.push(server);
  return (server.address() as AddressInfo).port;
}
const bridges: import('node:net').Server[] = [];

afterAll(async () => {
  for (const b of bridges) b.close();
  await entry.close();
  app.closeAllConnections();
  app.close();
});

/** One request through the entry with node:http's client; the response and its body. */
function send(
  path: string,
  opts: { method?: string; headers?: Record<string, string>; body?: Buffer } = {},
): Promise<{ status: number; headers: IncomingMessage['headers']; raw: string[]; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request({
      port,
      host: '127.0.0.1',
      path,
      method: opts.method,
      headers: opts.headers,
    });
    req.on('error', reject);
    req.on('response', (res) =>
      body(res).then(
        (b) =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            raw: res.rawHeaders,
            body: b,
          }),
        reject,
      ),
    );
    req.end(opts.body);
  });
}

const logged = (path: string): RequestRecord | undefined =>
  log
    .list()
    .reverse()
    .find((r) => r.path === path && (r.via === via || r.via === 'down'));

describe.each(['listener', 'in-process stream'])('the node entry, by its %s', (way) => {
  beforeAll(() => {
    port = ways[way];
    via = way === 'listener' ? 'test' : 'stream';
  });

  it('gives the app the visitor Host and drops hop-by-hop fields and the node error header', async () => {
    const r = await send('/headers', {
      headers: {
        'x-forwarded-host': 'alice.example',
        'x-forwarded-for': '203.0.113.9, 10.0.0.1',
        connection: 'x-private',
        'x-private': 'no',
        'user-agent': 'entry-test',
      },
    });
    expect(r.status).toBe(200);
    const seen = JSON.parse(r.body.toString()).headers;
    expect(seen.host).toBe('alice.example');
    expect(seen['x-private']).toBeUndefined();
    expect(r.headers['x-pc2-node-error']).toBeUndefined();
    expect(r.headers['x-secret']).toBeUndefined();
    expect(r.raw).toContain('X-Mixed-Case');
    const record = logged('/headers');
    expect(record).toMatchObject({
      status: 200,
      host: 'alice.example',
      via,
      client: '203.0.113.9',
      userAgent: 'entry-test',
    });
  });

  it('passes bodies both ways byte-exact, many at once, and logs their sizes', async () => {
    const sizes = [0, 1, 65_537, 3 * MiB + 7];
    const results = await Promise.all(
      sizes.map((n) => send('/echo', { method: 'POST', body: big.subarray(0, n) })),
    );
    results.forEach((r, i) => {
      expect(r.status).toBe(200);
      expect(r.body.equals(big.subarray(0, sizes[i]))).toBe(true);
    });
    const downloads = await Promise.all(Array.from({ length: 20 }, () => send('/big')));
    for (const d of downloads) expect(d.body.equals(big)).toBe(true);
    const records = log.list().filter((r) => r.path === '/echo' && r.via === via);
    expect(records.map((r) => r.bytesIn).sort((a, b) => a - b)).toEqual(sizes);
    expect(logged('/big')?.bytesOut).toBe(big.length);
  });

  it('a chunked upload and Expect: 100-continue reach the app', async () => {
    const chunked = await new Promise<Buffer>((resolve, reject) => {
      const req = request({ port, host: '127.0.0.1', path: '/echo', method: 'PUT' });
      req.on('error', reject);
      req.on('response', async (res) => resolve(await body(res)));
      req.write(big.subarray(0, 100_000));
      setTimeout(() => req.end(big.subarray(100_000, 200_000)), 20);
    });
    expect(chunked.equals(big.subarray(0, 200_000))).toBe(true);
    const continued = await new Promise<{ continued: boolean; body: Buffer }>((resolve, reject) => {
      let continued = false;
      const req = request({
        port,
        host: '127.0.0.1',
        path: '/echo',
        method: 'POST',
        headers: { expect: '100-continue', 'content-length': 5000 },
      });
      req.on('error', reject);
      req.on('continue', () => {
        continued = true;
        req.end(big.subarray(0, 5000));
      });
      req.on('response', async (res) => resolve({ continued, body: await body(res) }));
    });
    expect(continued.continued).toBe(true);
    expect(continued.body.equals(big.subarray(0, 5000))).toBe(true);
  });

  it('a response without a length is streamed: its head and first event arrive before its end', async () => {
    const first = await new Promise<{ at: number; chunk: string; rest: Promise<Buffer> }>(
      (resolve, reject) => {
        const req = request({ port, host: '127.0.0.1', path: '/stream' });
        req.on('error', reject);
        req.on('response', (res) => {
          res.once('data', (chunk: Buffer) =>
            resolve({ at: Date.now(), chunk: chunk.toString(), rest: body(res) }),
          );
        });
        req.end();
      },
    );
    expect(first.chunk).toBe('data: first\n\n');
    expect((await first.rest).toString()).toBe('data: last\n\n');
    // The first event came while the app still held the response open.
    expect(first.at).toBeLessThan(streamEndedAt);
  });

  it('an app that breaks off mid-body cuts the visitor response and is logged', async () => {
    await expect(send('/broken')).rejects.toThrow();
    await expect.poll(() => logged('/broken')?.error).toMatch(/app broke off|visitor went away/);
  });

  it('a visitor going away ends the request to the app', async () => {
    const socket = connect(port, '127.0.0.1');
    await once(socket, 'connect');
    socket.write('GET /endless HTTP/1.1\r\nHost: x\r\n\r\n');
    await once(socket, 'data');
    socket.destroy();
    await lastAbort;
    await expect.poll(() => logged('/endless')?.error).toBe('the visitor went away');
  });

  it('answers pipelined requests in order, HTTP/1.0 too, and drops a request with two framings', async () => {
    const socket = connect(port, '127.0.0.1');
    await once(socket, 'connect');
    let text = '';
    socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
    socket.write(
      'GET /headers HTTP/1.1\r\nHost: a\r\n\r\nPOST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello' +
        'GET /plain HTTP/1.0\r\n\r\n',
    );
    await once(socket, 'end');
    const answers = text.split(/(?=HTTP\/1\.1 \d{3} )/);
    expect(answers.map((a) => a.slice(9, 12))).toEqual(['200', '200', '200']);
    expect(answers[1].endsWith('\r\n\r\nhello')).toBe(true);
    expect(answers[2].endsWith('ok')).toBe(true);
    socket.destroy();
    const bad = connect(port, '127.0.0.1');
    let badText = '';
    bad.on('data', (chunk: Buffer) => (badText += chunk.toString('latin1')));
    bad.write(
      'GET /x HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n',
    );
    await once(bad, 'close');
    // node:http refuses it (the entry drops such a client), and the app never sees it.
    expect(badText).toBe('');
    expect(logged('/x')).toBeUndefined();
  });

  it('answers 502 APP_NOT_ANSWERING itself when the app is down', async () => {
    const down = new NodeEntry({
      upstream: new URL(`http://127.0.0.1:${await reservePort()}`),
      hostHeader: 'hop',
      log,
    });
    const downPort =
      way === 'listener' ? await down.listen('127.0.0.1', 0, 'down') : await bridge(down, 'down');
    try {
      const r = await new Promise<{ status: number; header: unknown; text: string }>(
        (resolve, reject) => {
          const req = request({ port: downPort, host: '127.0.0.1', path: '/gone', method: 'POST' });
          req.on('error', reject);
          req.on('response', async (res) =>
            resolve({
              status: res.statusCode ?? 0,
              header: res.headers['x-pc2-node-error'],
              text: (await body(res)).toString(),
            }),
          );
          req.end('a body nobody reads');
        },
      );
      expect(r.status).toBe(502);
      expect(r.header).toBe('APP_NOT_ANSWERING');
      expect(r.text).toContain('connection refused');
      expect(logged('/gone')?.error).toMatch(/app not answering .*connection refused/);
    } finally {
      await down.close();
    }
  });
});
