import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TunnelClient } from '../../agent/tunnel/index.ts';
import type { TunnelServer } from '../../origin/tunnel/index.ts';
import { authenticated, newClient, startServer, tcpServer, type TcpServer } from './harness.ts';

const TOTAL = 1024 * 1024 * 1024;
let server: TunnelServer;
let client: TunnelClient;
let source: TcpServer;
let sentHash: Promise<string>;

beforeAll(async () => {
  // The upstream streams 1 GiB of random-looking bytes and hashes what it sends; nothing is held whole.
  let resolveHash: (h: string) => void;
  sentHash = new Promise((r) => (resolveHash = r));
  source = await tcpServer((socket) => {
    const block = randomBytes(1024 * 1024);
    const hash = createHash('sha256');
    let sent = 0;
    const pump = () => {
      while (sent < TOTAL) {
        // Rotate the block each MiB so the stream is not one repeated MiB.
        const at = (sent / block.length) % block.length;
        const chunk = Buffer.concat([block.subarray(at), block.subarray(0, at)]);
        hash.update(chunk);
        sent += chunk.length;
        if (!socket.write(chunk)) return void socket.once('drain', pump);
      }
      socket.end();
      resolveHash(hash.digest('hex'));
    };
    pump();
  });
  server = await startServer();
  client = newClient(server, source.port);
  client.start();
  await authenticated(client);
});
afterAll(async () => {
  await client.stop();
  await server.stop();
  await source.close();
});

describe('bulk transfer', () => {
  it('1 GiB through one stream, byte-exact (hashed on both ends, streamed)', async () => {
    const stream = await server.openStream(client.options.deviceKey.id);
    const hash = createHash('sha256');
    let received = 0;
    for await (const chunk of stream) {
      hash.update(chunk as Buffer);
      received += (chunk as Buffer).length;
    }
    stream.end();
    expect(received).toBe(TOTAL);
    expect(hash.digest('hex')).toBe(await sentHash);
  }, 120_000);
});
