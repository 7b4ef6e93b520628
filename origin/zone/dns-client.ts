/**
 * A one-question DNS client for checking what a given name server answers (not a resolver): UDP
 * first, TCP when the answer comes back truncated. Used to wait until every live super node serves
 * a challenge before the CA is asked to look.
 */
import { createSocket } from 'node:dgram';
import { connect, isIPv6 } from 'node:net';
import dnsPacket, { type Packet, type RecordType } from 'dns-packet';
import { randomBytes } from 'node:crypto';

export interface DnsAnswer {
  rcode: string;
  authoritative: boolean;
  truncated: boolean;
  records: { name: string; type: string; data: unknown }[];
}

function query(name: string, type: RecordType): { id: number; bytes: Buffer } {
  const id = randomBytes(2).readUInt16BE(0);
  return {
    id,
    bytes: dnsPacket.encode({
      id,
      type: 'query',
      flags: 0,
      questions: [{ name, type, class: 'IN' }],
    }),
  };
}

function toAnswer(
  packet: Packet & { rcode?: string; flag_aa?: boolean; flag_tc?: boolean },
): DnsAnswer {
  return {
    rcode: packet.rcode ?? 'NOERROR',
    authoritative: packet.flag_aa ?? false,
    truncated: packet.flag_tc ?? false,
    records: (packet.answers ?? []).map((a) => ({
      name: a.name,
      type: a.type,
      data: (a as { data?: unknown }).data,
    })),
  };
}

export function queryUdp(
  host: string,
  port: number,
  name: string,
  type: RecordType,
  timeoutMs: number,
): Promise<DnsAnswer> {
  const q = query(name, type);
  const socket = createSocket(isIPv6(host) ? 'udp6' : 'udp4');
  return new Promise<DnsAnswer>((resolve, reject) => {
    const timer = setTimeout(
      () => finish(new Error(`no answer from ${host}:${port} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const finish = (e: Error | null, answer?: DnsAnswer) => {
      clearTimeout(timer);
      socket.close();
      if (e) reject(e);
      else resolve(answer!);
    };
    socket.on('error', (e) => finish(e));
    socket.on('message', (msg) => {
      try {
        const packet = dnsPacket.decode(msg);
        if (packet.id === q.id) finish(null, toAnswer(packet));
      } catch {
        // not an answer to us: keep waiting
      }
    });
    socket.send(q.bytes, port, host, (e) => e && finish(e));
  });
}

export function queryTcp(
  host: string,
  port: number,
  name: string,
  type: RecordType,
  timeoutMs: number,
): Promise<DnsAnswer> {
  const q = query(name, type);
  return new Promise<DnsAnswer>((resolve, reject) => {
    const socket = connect({ host, port });
    let buffer = Buffer.alloc(0);
    const timer = setTimeout(
      () => finish(new Error(`no answer from ${host}:${port} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const finish = (e: Error | null, answer?: DnsAnswer) => {
      clearTimeout(timer);
      socket.destroy();
      if (e) reject(e);
      else resolve(answer!);
    };
    socket.on('error', (e) => finish(e));
    socket.on('connect', () =>
      socket.write(
        Buffer.concat([Buffer.from([q.bytes.length >> 8, q.bytes.length & 0xff]), q.bytes]),
      ),
    );
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (buffer.length < 2 || buffer.length < 2 + buffer.readUInt16BE(0)) return;
      try {
        finish(null, toAnswer(dnsPacket.decode(buffer.subarray(2, 2 + buffer.readUInt16BE(0)))));
      } catch (e) {
        finish(e as Error);
      }
    });
  });
}

/** UDP, then TCP if the answer was truncated. */
export async function queryServer(
  host: string,
  port: number,
  name: string,
  type: RecordType,
  timeoutMs = 3_000,
): Promise<DnsAnswer> {
  const answer = await queryUdp(host, port, name, type, timeoutMs);
  return answer.truncated ? queryTcp(host, port, name, type, timeoutMs) : answer;
}

/** The TXT strings of an answer, each record's strings joined. */
export function txtValues(answer: DnsAnswer): string[] {
  return answer.records
    .filter((r) => r.type === 'TXT')
    .map((r) =>
      ([] as (Buffer | string)[])
        .concat(r.data as Buffer[])
        .map(String)
        .join(''),
    );
}
