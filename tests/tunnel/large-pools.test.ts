import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { TunnelClientOptions } from '../../agent/tunnel/index.ts';
import type { TunnelServerOptions } from '../../origin/tunnel/index.ts';
import { DEFAULT_LARGE_POOL } from '../../shared/tunnel/index.ts';
import * as harness from './harness.ts';

const { authenticated, newClient, readAll, sha256, startServer, waitFor } = harness;

const upstream = harness.echoServerForFile();

async function granted(
  server: Partial<TunnelServerOptions>,
  client: Partial<TunnelClientOptions>,
): Promise<{ client: number; server: number }> {
  const s = await startServer(server);
  const c = newClient(s, upstream.port, client);
  try {
    c.start();
    await authenticated(c);
    return { client: c.authInfo!.maxConnections, server: s.sessions()[0].maxConnections };
  } finally {
    await c.stop();
    await s.stop();
  }
}

describe('large tunnel pools (pc2 extension, asked in AUTH, granted in AUTH_ACK)', () => {
  it.each([
    {
      case: 'two pc2 peers: the default large pool',
      server: {},
      client: {},
      pool: DEFAULT_LARGE_POOL,
    },
    {
      case: 'a client asking for fewer gets what it asked',
      server: {},
      client: { largePoolConnections: 300 },
      pool: 300,
    },
    {
      case: 'a server with a smaller large pool grants its own',
      server: { largePoolConnections: 100 },
      client: {},
      pool: 100,
    },
    {
      case: 'a client that does not ask (as a stock client) gets maxConnections',
      server: { maxConnections: 16 },
      client: { largePoolConnections: 0 },
      pool: 16,
    },
    {
      case: 'a server without large pools (as a stock server) grants maxConnections',
      server: { maxConnections: 20, largePoolConnections: 0 },
      client: {},
      pool: 20,
    },
  ])('$case', async ({ server, client, pool }) => {
    expect(await granted(server, client)).toEqual({ client: pool, server: pool });
  });

  it('1,000 concurrent streams of one node each get a connection of their own, byte-exact', async () => {
    const server = await startServer();
    const client = newClient(server, upstream.port);
    try {
      client.start();
      await authenticated(client);
      const device = client.options.deviceKey.id;
      // Every stream stays open until all 1,000 are: only a pool of 1,000 connections can carry that.
      const streams = await Promise.all(
        Array.from({ length: 1000 }, () => server.openStream(device)),
      );
      expect(server.sessions()[0].connections).toBeGreaterThanOrEqual(1000);
      const results = await Promise.all(
        streams.map(async (stream, i) => {
          const payload = randomBytes(1 + ((i * 7919) % 20_000));
          stream.end(payload);
          const echoed = await readAll(stream);
          return sha256(echoed) === sha256(payload);
        }),
      );
      expect(results.filter(Boolean).length).toBe(1000);
      await waitFor(() => server.stats().streams === 0, 10_000, 'all streams released');
      expect(server.stats().queuedStreams).toBe(0);
    } finally {
      await client.stop();
      await server.stop();
    }
  });
});
