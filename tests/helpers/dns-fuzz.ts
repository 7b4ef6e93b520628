/**
 * Hostile DNS input for a name server: random bytes, valid queries with bytes flipped, cut short or
 * with counts, pointers and EDNS options made up, sent over UDP and over TCP (with lying length
 * prefixes, split frames and connections dropped mid-frame). Seeded, so a failure can be replayed.
 */
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import dnsPacket, { type RecordType } from 'dns-packet';

export { rng } from '../fuzz/mutate.ts';
import { rng } from '../fuzz/mutate.ts';

const TYPES: RecordType[] = ['A', 'AAAA', 'NS', 'SOA', 'TXT', 'CAA', 'MX', 'ANY' as RecordType];

export function fuzzPacket(random: () => number, zone: string): Buffer {
  const int = (n: number) => Math.floor(random() * n);
  const base = dnsPacket.encode({
    id: int(65536),
    type: 'query',
    flags: int(65536) & 0x7fff,
    questions: [
      { name: `${'x'.repeat(int(20))}.${zone}`, type: TYPES[int(TYPES.length)], class: 'IN' },
    ],
    additionals:
      random() < 0.5
        ? [
            {
              type: 'OPT',
              name: '.',
              udpPayloadSize: int(65536),
              flags: int(65536),
              options: random() < 0.5 ? [{ code: 10, data: Buffer.alloc(int(48)) }] : [],
            } as never,
          ]
        : [],
  });
  switch (int(6)) {
    case 0:
      return Buffer.from(Array.from({ length: int(600) }, () => int(256)));
    case 1: {
      const b = Buffer.from(base);
      for (let i = 1 + int(8); i > 0; i--) b[int(b.length)] = int(256);
      return b;
    }
    case 2:
      return base.subarray(0, int(base.length));
    case 3: {
      const b = Buffer.from(base);
      for (const at of [4, 6, 8, 10]) if (random() < 0.5) b.writeUInt16BE(int(65536), at);
      return b;
    }
    case 4: {
      // compression pointers where names are
      const b = Buffer.from(base);
      const at = 12 + int(Math.max(1, b.length - 13));
      b[at] = 0xc0 | int(64);
      b[at + 1] = int(256);
      return b;
    }
    default:
      return Buffer.concat([base, Buffer.from(Array.from({ length: int(64) }, () => int(256)))]);
  }
}

export async function fuzzUdp(
  port: number,
  zone: string,
  count: number,
  seed: number,
): Promise<void> {
  const random = rng(seed);
  const socket = createSocket('udp4');
  socket.on('error', () => {});
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
  for (let i = 0; i < count; i++) {
    await new Promise<void>((r) =>
      socket.send(fuzzPacket(random, zone), port, '127.0.0.1', () => r()),
    );
    if (i % 200 === 199) await new Promise((r) => setTimeout(r, 5)); // let the server breathe; this is not a flood test
  }
  socket.close();
}

export async function fuzzTcp(
  port: number,
  zone: string,
  connections: number,
  seed: number,
): Promise<void> {
  const random = rng(seed);
  const int = (n: number) => Math.floor(random() * n);
  for (let c = 0; c < connections; c++) {
    await new Promise<void>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      const done = () => {
        socket.destroy();
        resolve();
      };
      socket.on('error', done);
      socket.on('close', done);
      socket.setTimeout(2000, done);
      socket.on('data', () => {});
      socket.on('connect', () => {
        for (let f = 1 + int(5); f > 0; f--) {
          const packet = fuzzPacket(random, zone);
          const prefix = Buffer.alloc(2);
          prefix.writeUInt16BE(random() < 0.8 ? packet.length : int(65536));
          const frame = Buffer.concat([prefix, packet]);
          if (random() < 0.3) socket.write(frame.subarray(0, int(frame.length)));
          else socket.write(frame);
        }
        if (random() < 0.5) done();
        else socket.end();
      });
    });
  }
}
