import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyPair } from '../../shared/keys.ts';
import { TunnelClient } from '../../agent/tunnel/index.ts';
import {
  authenticated,
  echoServer,
  newClient,
  readAll,
  startServer,
  type TcpServer,
  waitFor,
} from './harness.ts';

let upstream: TcpServer;
beforeAll(async () => {
  upstream = await echoServer();
});
afterAll(async () => {
  await upstream.close();
});

describe('limits and housekeeping', () => {
  it('maxConnections bounds the pool; extra streams queue, then time out', async () => {
    // No large pools on this server: every client gets maxConnections, as from a stock server.
    const server = await startServer({
      maxConnections: 2,
      largePoolConnections: 0,
      streamQueueTimeoutMs: 2000,
    });
    const client = newClient(server, upstream.port);
    try {
      client.start();
      await authenticated(client);
      expect(client.authInfo?.maxConnections).toBe(2);
      const device = client.options.deviceKey.id;
      const a = await server.openStream(device);
      const b = await server.openStream(device);
      await expect(server.openStream(device)).rejects.toMatchObject({ code: 'QUEUE_TIMEOUT' });
      expect(server.sessions()[0].connections).toBe(2);
      // A queued stream is served as soon as one frees up.
      const queued = server.openStream(device);
      a.end('freed');
      expect((await readAll(a)).toString()).toBe('freed');
      const c = await queued;
      c.end('third');
      expect((await readAll(c)).toString()).toBe('third');
      b.end();
      await readAll(b);
    } finally {
      await client.stop();
      await server.stop();
    }
  });

  it('maxSessions refuses further devices (not fatal: the client keeps retrying)', async () => {
    const server = await startServer({ maxSessions: 1 });
    const first = newClient(server, upstream.port);
    const second = newClient(server, upstream.port, { backoff: { fastDelayMs: 20 } });
    try {
      first.start();
      await authenticated(first);
      second.start();
      const [info] = (await once(second, 'reconnecting')) as [{ reason: string }];
      expect(info.reason).toMatch(/server full/);
      expect(server.stats().sessions).toBe(1);
      await first.stop();
      await authenticated(second);
      expect(server.hasSession(second.options.deviceKey.id)).toBe(true);
    } finally {
      await first.stop();
      await second.stop();
      await server.stop();
    }
  });

  it('the client trims idle connections back to one spare', async () => {
    const server = await startServer();
    const client = newClient(server, upstream.port, { idleTrimMs: 200, pingIntervalMs: 100 });
    try {
      client.start();
      await authenticated(client);
      const device = client.options.deviceKey.id;
      const streams = await Promise.all([1, 2, 3].map(() => server.openStream(device)));
      await waitFor(() => client.stats().connections >= 4, 5000, 'pool growth');
      for (const s of streams) s.end('x');
      await Promise.all(streams.map((s) => readAll(s)));
      await waitFor(() => client.stats().connections === 1, 5000, 'trim to one');
      expect(server.hasSession(device)).toBe(true);
    } finally {
      await client.stop();
      await server.stop();
    }
  });

  it('a stream with no traffic past idleTimeoutMs is closed', async () => {
    const server = await startServer({ idleTimeoutMs: 300, pingIntervalMs: 1000 });
    const client = newClient(server, upstream.port, { pingIntervalMs: 100 });
    try {
      client.start();
      await authenticated(client);
      const stream = await server.openStream(client.options.deviceKey.id);
      const error = await new Promise<Error>((resolve) => stream.on('error', resolve));
      expect(error.message).toMatch(/idle timeout/);
    } finally {
      await client.stop();
      await server.stop();
    }
  });

  it('client options are checked', () => {
    const base = {
      serverHost: '127.0.0.1',
      servicePeerId: KeyPair.generate().id,
      deviceKey: KeyPair.generate(),
      upstream: { host: '127.0.0.1', port: 1 },
    };
    expect(() => new TunnelClient({ ...base, bogus: true } as never)).toThrow(
      /unknown option\(s\) bogus/,
    );
    expect(() => new TunnelClient({ ...base, backoff: { nope: 1 } } as never)).toThrow(
      /unknown option\(s\) backoff\.nope/,
    );
    expect(() => new TunnelClient({ ...base, upstream: undefined } as never)).toThrow(/upstream/);
  });
});
