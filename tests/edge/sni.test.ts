/**
 * The SNI reader on ClientHellos real clients sent (Node.js's OpenSSL and curl), split at every
 * byte, spread over several records, and mutated at random: it names the host, asks for more, or
 * says not-tls, and never throws.
 */
import { execFile } from 'node:child_process';
import net from 'node:net';
import tls from 'node:tls';
import { describe, expect, it } from 'vitest';
import { MAX_CLIENT_HELLO_BYTES, peekClientHello } from '../../edge/sni.ts';

/** The first bytes a client sends to a server that never answers. */
async function capture(connect: (port: number) => void): Promise<Buffer> {
  const server = net.createServer();
  const first = new Promise<Buffer>((resolve) =>
    server.on('connection', (socket) => {
      const chunks: Buffer[] = [];
      socket.on('data', (c: Buffer) => {
        chunks.push(c);
        const all = Buffer.concat(chunks);
        if (peekClientHello(all).kind !== 'incomplete' || all.length > 64 * 1024) {
          resolve(all);
          socket.destroy();
        }
      });
    }),
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  connect((server.address() as net.AddressInfo).port);
  const bytes = await first;
  server.close();
  return bytes;
}

const fromNode = (servername?: string) =>
  capture((port) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false });
    socket.on('error', () => {});
  });

const fromCurl = (host: string) =>
  capture((port) => {
    execFile(
      'curl',
      [
        '-sk',
        '--max-time',
        '3',
        '--resolve',
        `${host}:${port}:127.0.0.1`,
        `https://${host}:${port}/`,
      ],
      () => {},
    );
  });

/** The same handshake message cut into records of `size` bytes. */
function reRecord(hello: Buffer, size: number): Buffer {
  const message = hello.subarray(5, 5 + hello.readUInt16BE(3));
  const out: Buffer[] = [];
  for (let at = 0; at < message.length; at += size) {
    const part = message.subarray(at, at + size);
    const header = Buffer.from([22, 3, 1, 0, 0]);
    header.writeUInt16BE(part.length, 3);
    out.push(header, part);
  }
  return Buffer.concat(out);
}

describe('peekClientHello', () => {
  it('reads the host name of ClientHellos from Node.js and curl, lower-cased, and null without SNI', async () => {
    expect(peekClientHello(await fromNode('Alice.Ela.Test'))).toEqual({
      kind: 'hello',
      serverName: 'alice.ela.test',
    });
    expect(peekClientHello(await fromCurl('bob.ela.test'))).toEqual({
      kind: 'hello',
      serverName: 'bob.ela.test',
    });
    // Node.js sends no SNI to an IP address.
    expect(peekClientHello(await fromNode())).toEqual({ kind: 'hello', serverName: null });
  });

  it('asks for more at every cut of the hello, and reads it across records of any size', async () => {
    const hello = await fromNode('alice.ela.test');
    for (let cut = 0; cut < hello.length; cut++)
      expect(peekClientHello(hello.subarray(0, cut)).kind, String(cut)).toBe('incomplete');
    for (const size of [1, 7, 100, 300]) {
      const spread = reRecord(hello, size);
      expect(peekClientHello(spread), String(size)).toEqual({
        kind: 'hello',
        serverName: 'alice.ela.test',
      });
      expect(peekClientHello(spread.subarray(0, spread.length - 1)).kind).toBe('incomplete');
    }
  });

  it('says not-tls for plain HTTP, other records, a hello past the size cap, and odd names', async () => {
    expect(peekClientHello(Buffer.from('GET / HTTP/1.1\r\nhost: x\r\n\r\n')).kind).toBe('not-tls');
    expect(peekClientHello(Buffer.from([23, 3, 3, 0, 10])).kind).toBe('not-tls');
    expect(peekClientHello(Buffer.from([22, 3, 1, 0, 4, 2, 0, 0, 0])).kind).toBe('not-tls');
    const huge = Buffer.from([22, 3, 1, 0x40, 0, 1, 0, 0x40, 0x01]);
    expect(MAX_CLIENT_HELLO_BYTES).toBeLessThan(0x4001);
    expect(peekClientHello(huge).kind).toBe('not-tls');
    const hello = await fromNode('alice.ela.test');
    const at = hello.indexOf('alice.ela.test');
    const odd = Buffer.from(hello);
    odd.write('alice_ela.test', at, 'latin1');
    expect(peekClientHello(odd)).toEqual({ kind: 'hello', serverName: null });
  });

  it('never throws on mutated hellos (20,000 random byte flips and truncations)', async () => {
    const hello = await fromNode('alice.ela.test');
    let seed = 42;
    const random = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    const kinds = new Set<string>();
    for (let i = 0; i < 20_000; i++) {
      const mutated = Buffer.from(hello.subarray(0, 1 + Math.floor(random() * hello.length)));
      for (let f = 0; f < 1 + Math.floor(random() * 4); f++)
        mutated[Math.floor(random() * mutated.length)] = Math.floor(random() * 256);
      kinds.add(peekClientHello(mutated).kind);
    }
    expect([...kinds].sort()).toEqual(['hello', 'incomplete', 'not-tls']);
  });
});
