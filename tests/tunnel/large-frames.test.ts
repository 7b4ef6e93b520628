import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DATA_CHUNK_BYTES,
  FrameReader,
  HEADER_BYTES,
  MAX_DATA_BYTES,
  BOX_OVERHEAD,
} from '../../shared/tunnel/index.ts';
import type { TunnelClientOptions } from '../../agent/tunnel/index.ts';
import type { TunnelServer, TunnelServerOptions } from '../../origin/tunnel/index.ts';
import {
  authenticated,
  echoServer,
  HOST,
  newClient,
  readAll,
  startServer,
  tcpServer,
  type TcpServer,
} from './harness.ts';

const STOCK_MAX_FRAME = HEADER_BYTES + BOX_OVERHEAD + DATA_CHUNK_BYTES;
let upstream: TcpServer;

beforeAll(async () => {
  upstream = await echoServer();
});
afterAll(async () => {
  await upstream.close();
});

/**
 * A server, a TCP relay in front of it that splits both directions into frames and records the
 * largest one seen each way, and a client dialing through the relay.
 */
async function through(
  serverOptions: Partial<TunnelServerOptions>,
  clientOptions: Partial<TunnelClientOptions>,
) {
  const server = await startServer(serverOptions);
  const largest = { toClient: 0, toServer: 0 };
  const observe = (direction: keyof typeof largest) => {
    const reader = new FrameReader(2);
    return (chunk: Buffer) => {
      const frames = reader.push(chunk);
      if (frames.ok)
        for (const f of frames.value) largest[direction] = Math.max(largest[direction], f.length);
    };
  };
  const relay = await tcpServer((inbound) => {
    const outbound = connect(server.address().port, HOST);
    outbound.on('error', () => inbound.destroy());
    inbound.on('close', () => outbound.destroy());
    outbound.on('close', () => inbound.destroy());
    outbound.on('data', observe('toClient'));
    inbound.on('data', observe('toServer'));
    outbound.pipe(inbound);
    inbound.pipe(outbound);
  });
  const client = newClient(server, upstream.port, {
    ...clientOptions,
    createSocket: (host) => connect(relay.port, host) as Socket,
  });
  client.start();
  await authenticated(client);
  const echo = async (bytes: Buffer) => {
    const stream = await server.openStream(client.options.deviceKey.id);
    stream.end(bytes);
    return readAll(stream);
  };
  const close = async () => {
    await client.stop();
    await server.stop();
    await relay.close();
  };
  return { server, client, largest, echo, close };
}

describe('large DATA frames (pc2 extension, negotiated in AUTH/AUTH_ACK padding)', () => {
  it('two pc2 peers agree on 65,492-byte payloads and use them both ways, byte-exact', async () => {
    const t = await through({}, {});
    try {
      expect(t.client.authInfo?.dataChunkBytes).toBe(MAX_DATA_BYTES);
      expect(t.server.sessions()[0].dataChunkBytes).toBe(MAX_DATA_BYTES);
      const sent = randomBytes(1024 * 1024);
      expect((await t.echo(sent)).equals(sent)).toBe(true);
      expect(t.largest.toClient).toBeGreaterThan(STOCK_MAX_FRAME);
      expect(t.largest.toServer).toBeGreaterThan(STOCK_MAX_FRAME);
      expect(Math.max(t.largest.toClient, t.largest.toServer)).toBeLessThanOrEqual(65535);
    } finally {
      await t.close();
    }
  });

  // Unpadded AUTH_ACK = 3 + 40 + 35 + endpoint + 2 NULs = 252 bytes: 4 bytes of padding room, too few.
  const tightEndpoint = 'e'.repeat(252 - 3 - 40 - 35 - 2);
  it.each([
    {
      case: 'a client that does not offer them (as a stock client)',
      server: {},
      client: { largeFrames: false },
      endpoint: undefined,
    },
    {
      case: 'a server that does not answer the offer (as a stock server)',
      server: { largeFrames: false },
      client: {},
      endpoint: undefined,
    },
    {
      case: 'an AUTH_ACK with no padding room for the answer',
      server: { endpointFor: () => ({ endpoint: tightEndpoint, namedEndpoint: '' }) },
      client: {},
      endpoint: tightEndpoint,
    },
  ])('$case: stock frames only, both ways', async ({ server, client, endpoint }) => {
    const t = await through(server, client);
    try {
      if (endpoint) expect(t.client.authInfo?.endpoint).toBe(endpoint);
      expect(t.client.authInfo?.dataChunkBytes).toBe(DATA_CHUNK_BYTES);
      expect(t.server.sessions()[0].dataChunkBytes).toBe(DATA_CHUNK_BYTES);
      const sent = randomBytes(1024 * 1024);
      expect((await t.echo(sent)).equals(sent)).toBe(true);
      expect(t.largest.toClient).toBe(STOCK_MAX_FRAME);
      expect(t.largest.toServer).toBe(STOCK_MAX_FRAME);
    } finally {
      await t.close();
    }
  });

  it('rejects a non-boolean largeFrames option', async () => {
    await expect(startServer({ largeFrames: 'yes' as unknown as boolean })).rejects.toThrow(
      /largeFrames/,
    );
  });
});
