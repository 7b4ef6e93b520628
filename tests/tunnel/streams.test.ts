import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TunnelClient } from '../../agent/tunnel/index.ts';
import type { TunnelServer } from '../../origin/tunnel/index.ts';
import {
  authenticated,
  echoServer,
  newClient,
  readAll,
  sha256,
  startServer,
  tcpServer,
  type TcpServer,
  waitFor,
} from './harness.ts';

let server: TunnelServer;
let upstream: TcpServer;
let client: TunnelClient;

beforeAll(async () => {
  upstream = await echoServer();
  // Stock limits here (no large pools): the pool stops at maxConnections and the rest queue.
  server = await startServer({ maxConnections: 64, largePoolConnections: 0 });
  client = newClient(server, upstream.port);
  client.start();
  await authenticated(client);
});
afterAll(async () => {
  await client.stop();
  await server.stop();
  await upstream.close();
});

describe('streams through one session', () => {
  it('1,000 concurrent streams, byte-exact, queued over at most 64 connections', async () => {
    const device = client.options.deviceKey.id;
    const results = await Promise.all(
      Array.from({ length: 1000 }, async (_, i) => {
        const payload = randomBytes(1 + ((i * 7919) % 20_000));
        const stream = await server.openStream(device);
        stream.end(payload);
        const echoed = await readAll(stream);
        return sha256(echoed) === sha256(payload) && echoed.length === payload.length;
      }),
    );
    expect(results.filter(Boolean).length).toBe(1000);
    expect(server.sessions()[0].connections).toBeLessThanOrEqual(64);
    expect(server.sessions()[0].connections).toBeGreaterThan(1);
    await waitFor(() => server.stats().streams === 0, 10_000, 'all streams released');
    expect(server.stats().queuedStreams).toBe(0);
  });

  it('half-close: our end() still lets the upstream answer afterwards', async () => {
    const delayed = await tcpServer((socket) => {
      const chunks: Buffer[] = [];
      socket.on('data', (c) => chunks.push(c as Buffer)); // no setEncoding: always bytes
      socket.on('end', () => setTimeout(() => socket.end(Buffer.concat(chunks).reverse()), 50));
    });
    const c2 = newClient(server, delayed.port);
    try {
      c2.start();
      await authenticated(c2);
      const stream = await server.openStream(c2.options.deviceKey.id);
      stream.end('abc');
      expect((await readAll(stream)).toString()).toBe('cba');
    } finally {
      await c2.stop();
      await delayed.close();
    }
  });

  it('the upstream ending first ends our readable side; we can still finish writing', async () => {
    const greeter = await tcpServer((socket) => {
      socket.end('bye');
      socket.resume();
    });
    const c3 = newClient(server, greeter.port);
    try {
      c3.start();
      await authenticated(c3);
      const stream = await server.openStream(c3.options.deviceKey.id);
      expect((await readAll(stream)).toString()).toBe('bye');
      stream.end('late bytes are dropped, not an error');
      await new Promise((r) => stream.once('close', r));
    } finally {
      await c3.stop();
      await greeter.close();
    }
  });

  it('backpressure: a slow reader pauses the upstream instead of buffering everything', async () => {
    const total = 64 * 1024 * 1024;
    let produced = 0;
    const firehose = await tcpServer((socket) => {
      const chunk = Buffer.alloc(64 * 1024, 1);
      const pump = () => {
        while (produced < total) {
          produced += chunk.length;
          if (!socket.write(chunk)) return void socket.once('drain', pump);
        }
        socket.end();
      };
      pump();
    });
    const c4 = newClient(server, firehose.port);
    try {
      c4.start();
      await authenticated(c4);
      const stream = await server.openStream(c4.options.deviceKey.id);
      stream.pause();
      await new Promise((r) => setTimeout(r, 500));
      // Without backpressure the whole 64 MiB would have been pushed by now.
      expect(produced).toBeLessThan(total / 2);
      let received = 0;
      stream.on('data', (c: Buffer) => (received += c.length));
      stream.resume();
      await new Promise((r) => stream.once('end', r));
      expect(received).toBe(total);
      stream.end();
    } finally {
      await c4.stop();
      await firehose.close();
    }
  });

  it('an unreachable upstream rejects openStream and the connection serves again', async () => {
    const closed = await tcpServer(() => {});
    const port = closed.port;
    await closed.close();
    const c5 = newClient(server, port);
    try {
      c5.start();
      await authenticated(c5);
      await expect(server.openStream(c5.options.deviceKey.id)).rejects.toMatchObject({
        code: 'UPSTREAM_REFUSED',
      });
      expect(server.hasSession(c5.options.deviceKey.id)).toBe(true);
    } finally {
      await c5.stop();
    }
  });

  it('destroy(error) on the server side propagates to the upstream connection', async () => {
    let upstreamClosed = false;
    const sink = await tcpServer((socket) => {
      socket.resume();
      socket.on('end', () => (upstreamClosed = true));
      socket.on('close', () => (upstreamClosed = true));
    });
    const c6 = newClient(server, sink.port);
    try {
      c6.start();
      await authenticated(c6);
      const stream = await server.openStream(c6.options.deviceKey.id);
      stream.write('x');
      stream.on('error', () => {});
      stream.destroy(new Error('edge went away'));
      await waitFor(() => upstreamClosed, 5000, 'upstream closed');
    } finally {
      await c6.stop();
      await sink.close();
    }
  });

  it('no session -> NO_SESSION', async () => {
    const { KeyPair } = await import('../../shared/keys.ts');
    await expect(server.openStream(KeyPair.generate().id)).rejects.toMatchObject({
      code: 'NO_SESSION',
    });
  });
});
