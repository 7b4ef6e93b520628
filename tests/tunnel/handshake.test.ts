import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyPair } from '../../shared/keys.ts';
import { DEFAULT_LARGE_POOL, MAX_DATA_BYTES } from '../../shared/tunnel/index.ts';
import type { TunnelServer } from '../../origin/tunnel/index.ts';
import {
  authenticated,
  echoServer,
  HOST,
  newClient,
  readAll,
  startServer,
  type TcpServer,
  waitFor,
} from './harness.ts';

let server: TunnelServer;
let upstream: TcpServer;

beforeAll(async () => {
  upstream = await echoServer();
  server = await startServer({
    endpointFor: () => ({ endpoint: 'alice.ela.city:443', namedEndpoint: 'alice.ela.city' }),
    accessPolicy: (deviceId) => !deviceId.equals(banned.id),
  });
});
afterAll(async () => {
  await server.stop();
  await upstream.close();
});

const banned = KeyPair.generate();

describe('handshake', () => {
  it('AUTH gets AUTH_ACK with the public name; the session serves a stream', async () => {
    const client = newClient(server, upstream.port);
    const sessions: unknown[] = [];
    server.on('session', (s) => sessions.push(s));
    try {
      client.start();
      await authenticated(client);
      expect(client.authInfo).toEqual({
        endpoint: 'alice.ela.city:443',
        namedEndpoint: 'alice.ela.city',
        // A pc2 client asks for a large pool and gets the server's default (a stock one gets 16).
        maxConnections: DEFAULT_LARGE_POOL,
        dataChunkBytes: MAX_DATA_BYTES,
      });
      expect(server.hasSession(client.options.deviceKey.id)).toBe(true);
      expect(sessions.length).toBe(1);
      const stream = await server.openStream(client.options.deviceKey.id, {
        remoteAddress: '203.0.113.9',
        remotePort: 5555,
      });
      stream.end('hello');
      expect((await readAll(stream)).toString()).toBe('hello');
    } finally {
      await client.stop();
    }
    await waitFor(() => !server.hasSession(client.options.deviceKey.id), 5000, 'session gone');
  });

  it('the access policy refuses a device: fatal, reported as failed', async () => {
    const client = newClient(server, upstream.port, { deviceKey: banned });
    try {
      client.start();
      await expect(authenticated(client)).rejects.toMatchObject({ code: 'FORBIDDEN', fatal: true });
      expect(client.state).toBe('failed');
      expect(server.hasSession(banned.id)).toBe(false);
    } finally {
      await client.stop();
    }
  });

  it('a client with the wrong service peer id cannot authenticate (fatal)', async () => {
    const client = newClient(server, upstream.port, { servicePeerId: KeyPair.generate().id });
    try {
      client.start();
      await expect(authenticated(client)).rejects.toMatchObject({ code: 'AUTH_FAILED' });
      expect(client.state).toBe('failed');
    } finally {
      await client.stop();
    }
  });

  it('a connection that never sends AUTH is closed after the handshake timeout', async () => {
    const quick = await startServer({ handshakeTimeoutMs: 200 });
    try {
      const socket = connect(quick.address().port, HOST);
      socket.on('error', () => {});
      const received = await readAll(socket);
      expect(received.length).toBeGreaterThanOrEqual(34); // the challenge, then nothing
      expect(quick.stats().connections).toBe(0);
    } finally {
      await quick.stop();
    }
  });

  it('rejects unknown options clearly', async () => {
    await expect(startServer({ bogus: 1 } as never)).rejects.toThrow(/unknown option\(s\) bogus/);
    await expect(startServer({ maxConnections: 65 })).rejects.toThrow(/maxConnections/);
  });
});
