/**
 * Raw TLS streams (pc2 extension, shared/tunnel/tls-streams.ts): a client with a TLS terminator
 * declares it in AUTH and gets CONNECTs marked for it; a stock client never does, so the server
 * never sends it one; a private node refuses plain streams.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CryptoContext } from '../../shared/crypto/context.ts';
import { KeyPair } from '../../shared/keys.ts';
import {
  DATA_CHUNK_BYTES,
  decodeFrame,
  encodeAuth,
  encodeConnect,
  MAX_DATA_BYTES,
  newSessionKeyPair,
} from '../../shared/tunnel/index.ts';
import type { TunnelServer } from '../../origin/tunnel/index.ts';
import { TunnelError } from '../../origin/tunnel/errors.ts';
import {
  authenticated,
  newClient,
  readAll,
  startServer,
  tcpServer,
  type TcpServer,
  waitFor,
} from './harness.ts';

/** Answers every connection with `tag:` and the bytes it got, once the peer half-closes. */
const tagged = (tag: string) =>
  tcpServer((socket) => {
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('end', () => socket.end(`${tag}:${Buffer.concat(chunks)}`));
  });

async function exchange(server: TunnelServer, node: KeyPair, tls: boolean): Promise<string> {
  const stream = await server.openStream(node.id, tls ? { tls: true } : {});
  stream.end('hello');
  return (await readAll(stream)).toString();
}

describe('raw TLS streams over the tunnel', () => {
  let server: TunnelServer;
  let plain: TcpServer;
  let terminator: TcpServer;

  beforeAll(async () => {
    server = await startServer();
    plain = await tagged('plain');
    terminator = await tagged('tls');
  });
  afterAll(async () => {
    await server.stop();
    await plain.close();
    await terminator.close();
  });

  it('carries a marked stream to the TLS terminator and a plain one to the upstream', async () => {
    const key = KeyPair.generate();
    const client = newClient(server, plain.port, {
      deviceKey: key,
      tlsUpstream: { host: '127.0.0.1', port: terminator.port },
    });
    client.start();
    await authenticated(client);
    try {
      expect(server.sessions()[0]?.tlsStreams).toBe(true);
      expect(await exchange(server, key, true)).toBe('tls:hello');
      expect(await exchange(server, key, false)).toBe('plain:hello');
    } finally {
      client.stop();
      await waitFor(() => !server.hasSession(key.id), 5_000, 'session closed');
    }
  });

  it('sends no marked CONNECT to a client that did not declare them (a stock client), also without large frames', async () => {
    for (const largeFrames of [true, false]) {
      const key = KeyPair.generate();
      const client = newClient(server, plain.port, { deviceKey: key, largeFrames });
      client.start();
      await authenticated(client);
      try {
        const before = server.stats().streamsOpened;
        const refused = await server.openStream(key.id, { tls: true }).catch((e) => e);
        expect(refused).toBeInstanceOf(TunnelError);
        expect((refused as TunnelError).code).toBe('NO_TLS_STREAMS');
        expect(server.stats().streamsOpened).toBe(before);
        expect(await exchange(server, key, false)).toBe('plain:hello');
      } finally {
        client.stop();
        await waitFor(() => !server.hasSession(key.id), 5_000, 'session closed');
      }
    }
  });

  it('a private node (tlsOnly) refuses plain streams and still takes TLS ones, without large frames too', async () => {
    const key = KeyPair.generate();
    const client = newClient(server, plain.port, {
      deviceKey: key,
      largeFrames: false,
      tlsOnly: true,
      tlsUpstream: { host: '127.0.0.1', port: terminator.port },
    });
    client.start();
    await authenticated(client);
    try {
      expect(server.sessions().find((s) => s.deviceId.equals(key.id))?.dataChunkBytes).toBe(
        DATA_CHUNK_BYTES,
      );
      const refused = await server.openStream(key.id).catch((e) => e);
      expect((refused as TunnelError).code).toBe('UPSTREAM_REFUSED');
      expect(await exchange(server, key, true)).toBe('tls:hello');
      expect(plain.sockets.size).toBe(0);
    } finally {
      client.stop();
    }
  });
});

describe('the wire of the extension', () => {
  const device = KeyPair.generate();
  const service = KeyPair.generate();
  const peer = () => CryptoContext.between(device.x25519SecretKey, service.x25519PublicKey);
  const auth = (extra: object) =>
    encodeAuth(peer(), {
      deviceId: device.id,
      version: 1,
      userId: device.id,
      sessionKey: newSessionKeyPair().publicKey,
      nameAccess: 1,
      signature: new Uint8Array(64),
      ...extra,
    });
  const serverPeer = () => CryptoContext.between(service.x25519SecretKey, device.x25519PublicKey);

  it('declares TLS streams in the offer flags, with or without large frames; a stock AUTH declares nothing', () => {
    for (const [extra, expected] of [
      [
        { tlsStreams: true, maxDataBytes: MAX_DATA_BYTES },
        { tls: true, max: MAX_DATA_BYTES },
      ],
      [{ tlsStreams: true }, { tls: true, max: DATA_CHUNK_BYTES }],
      [{ maxDataBytes: MAX_DATA_BYTES }, { tls: undefined, max: MAX_DATA_BYTES }],
      [{}, { tls: undefined, max: undefined }],
    ] as const) {
      const decoded = decodeFrame(auth(extra), { peer: serverPeer() });
      expect(decoded.ok).toBe(true);
      if (!decoded.ok || decoded.value.type !== 'AUTH') continue;
      expect(decoded.value.tlsStreams).toBe(expected.tls);
      expect(decoded.value.maxDataBytes).toBe(expected.max);
    }
  });

  it('marks a CONNECT inside its box: same size class, decoded as tls only with the marker', () => {
    const keys = newSessionKeyPair();
    const other = newSessionKeyPair();
    const ctx = () => CryptoContext.between(keys.secretKey, other.publicKey);
    const back = () => CryptoContext.between(other.secretKey, keys.publicKey);
    const address = new Uint8Array([203, 0, 113, 7]);
    for (const tls of [true, false]) {
      const frame = encodeConnect(ctx(), { address, port: 443, ...(tls ? { tls } : {}) });
      expect(frame.length).toBeLessThanOrEqual(256);
      const decoded = decodeFrame(frame, { session: back() });
      expect(decoded.ok && decoded.value).toEqual({
        type: 'CONNECT',
        address,
        port: 443,
        ...(tls ? { tls: true } : {}),
      });
    }
  });
});
