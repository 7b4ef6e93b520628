import dnsPacket from 'dns-packet';
import { describe, expect, it } from 'vitest';
import { Responder, sourceKey } from '../../origin/zone/responder.ts';
import { queryPacket, sampleView, ZONE } from './helpers.ts';

async function responder(over: Partial<ConstructorParameters<typeof Responder>[0]> = {}) {
  const { view } = await sampleView();
  return {
    view,
    responder: new Responder({
      view: () => view,
      rateLimit: false,
      slip: 2,
      amplificationFactor: 4,
      now: () => Date.now(),
      ...over,
    }),
  };
}

const decode = (b: Uint8Array | null) =>
  dnsPacket.decode(Buffer.from(b!)) as ReturnType<typeof dnsPacket.decode> & {
    rcode: string;
    flag_aa: boolean;
    flag_tc: boolean;
    flag_ra: boolean;
    flag_rd: boolean;
  };
const cookieOf = (packet: ReturnType<typeof decode>) => {
  const opt = packet.additionals?.find((a) => a.type === 'OPT') as unknown as
    | { options: { code: number; data: Buffer }[] }
    | undefined;
  return opt?.options.find((o) => o.code === 10)?.data;
};

describe('the DNS responder', () => {
  it('answers authoritatively, never offers recursion, echoes id, RD and the question as asked', async () => {
    const { responder: r } = await responder();
    const out = decode(
      r.respond(queryPacket(`AlIcE.${ZONE}`, 'A', { id: 777 }), 'udp', '198.51.100.7'),
    );
    expect(out).toMatchObject({
      id: 777,
      rcode: 'NOERROR',
      flag_aa: true,
      flag_ra: false,
      flag_rd: true,
    });
    expect(out.questions).toEqual([{ name: `AlIcE.${ZONE}`, type: 'A', class: 'IN' }]);
    expect(out.answers).toMatchObject([{ name: `AlIcE.${ZONE}`, type: 'A', data: '192.0.2.1' }]);
  });

  it('compresses owner names against the question', async () => {
    const { responder: r } = await responder();
    const bytes = r.respond(queryPacket(`alice.${ZONE}`, 'A'), 'udp', '198.51.100.7')!;
    // header 12 + question (16 + 4) + one A record: pointer 2, type/class/ttl/rdlength 10, address 4
    expect(bytes.length).toBe(12 + 20 + 16);
  });

  it('REFUSED outside the zone, without AA', async () => {
    const { responder: r } = await responder();
    expect(decode(r.respond(queryPacket('example.com', 'A'), 'udp', '198.51.100.7'))).toMatchObject(
      { rcode: 'REFUSED', flag_aa: false },
    );
    expect(r.stats.refused).toBe(1);
  });

  it('adds an OPT record (1232 bytes) when the query has one, and BADVERS for EDNS versions it does not speak', async () => {
    const { responder: r } = await responder();
    const edns = decode(r.respond(queryPacket(ZONE, 'SOA', { edns: true }), 'udp', '198.51.100.7'));
    expect(edns.additionals).toMatchObject([{ type: 'OPT', udpPayloadSize: 1232 }]);
    const bad = decode(
      r.respond(queryPacket(ZONE, 'SOA', { edns: true, ednsVersion: 1 }), 'udp', '198.51.100.7'),
    );
    expect(bad.answers).toEqual([]);
    expect(bad.additionals).toMatchObject([{ type: 'OPT', extendedRcode: 1 }]); // BADVERS = 16 = (1 << 4) | 0
  });

  it('truncates a UDP answer past 4 x the query size unless the client shows a valid server cookie', async () => {
    const { view, responder: r } = await responder();
    view.txt.set(`_acme-challenge.${ZONE}`, ['a'.repeat(200), 'b'.repeat(200)]);
    const query = queryPacket(`_acme-challenge.${ZONE}`, 'TXT');
    const udp = decode(r.respond(query, 'udp', '198.51.100.7'));
    expect(udp).toMatchObject({ flag_tc: true, answers: [] });
    expect(decode(r.respond(query, 'tcp', '198.51.100.7')).answers).toHaveLength(2);
    // A first query with a client cookie gets a server cookie back; sent again, it lifts the limit.
    const client = Buffer.from('0102030405060708', 'hex');
    const first = decode(
      r.respond(
        queryPacket(`_acme-challenge.${ZONE}`, 'TXT', { cookie: client }),
        'udp',
        '198.51.100.7',
      ),
    );
    expect(first.flag_tc).toBe(true);
    const full = cookieOf(first)!;
    expect(full.subarray(0, 8)).toEqual(client);
    expect(full.length).toBe(24);
    const second = decode(
      r.respond(
        queryPacket(`_acme-challenge.${ZONE}`, 'TXT', { cookie: full }),
        'udp',
        '198.51.100.7',
      ),
    );
    expect(second).toMatchObject({ flag_tc: false });
    expect(second.answers).toHaveLength(2);
    // the same cookie from another address proves nothing
    expect(
      decode(
        r.respond(
          queryPacket(`_acme-challenge.${ZONE}`, 'TXT', { cookie: full }),
          'udp',
          '198.51.100.8',
        ),
      ).flag_tc,
    ).toBe(true);
    // a cookie option of an impossible length is FORMERR
    expect(
      decode(
        r.respond(queryPacket(ZONE, 'SOA', { cookie: Buffer.alloc(5) }), 'udp', '198.51.100.7'),
      ).rcode,
    ).toBe('FORMERR');
  });

  it('rate-limits per source over UDP: past the burst every other query gets an empty truncated answer, the rest nothing', async () => {
    const { responder: r } = await responder({
      rateLimit: { perSec: 1, burst: 3 },
      now: () => 1_000_000,
    });
    const outs = Array.from({ length: 9 }, () =>
      r.respond(queryPacket(`x.${ZONE}`, 'A'), 'udp', '203.0.113.5'),
    );
    expect(outs.slice(0, 3).every((o) => o && decode(o).answers!.length === 1)).toBe(true);
    const limited = outs.slice(3);
    expect(limited.filter((o) => o === null)).toHaveLength(3);
    expect(limited.filter((o) => o !== null).every((o) => decode(o).flag_tc)).toBe(true);
    expect(r.stats.rateLimited).toBe(6);
    // another source and TCP are not limited by it
    expect(r.respond(queryPacket(`x.${ZONE}`, 'A'), 'udp', '203.0.113.6')).not.toBeNull();
    expect(
      decode(r.respond(queryPacket(`x.${ZONE}`, 'A'), 'tcp', '203.0.113.5')).answers,
    ).toHaveLength(1);
  });

  it('drops and counts what is not a query: short, a response, two questions, answers in a query, garbage', async () => {
    const { responder: r } = await responder();
    const good = queryPacket(ZONE, 'SOA');
    const response = Buffer.from(good);
    response[2] |= 0x80;
    const twoQuestions = dnsPacket.encode({
      id: 1,
      type: 'query',
      questions: [
        { name: ZONE, type: 'A' },
        { name: ZONE, type: 'AAAA' },
      ],
    });
    const withAnswer = dnsPacket.encode({
      id: 1,
      type: 'query',
      questions: [{ name: ZONE, type: 'A' }],
      answers: [{ name: ZONE, type: 'A', data: '1.2.3.4' }],
    });
    const truncatedQuestion = good.subarray(0, 20);
    const pointerLoop = Buffer.concat([
      good.subarray(0, 12),
      Buffer.from([0xc0, 0x0c, 0, 1, 0, 1]),
    ]);
    for (const packet of [
      Buffer.alloc(3),
      response,
      twoQuestions,
      withAnswer,
      truncatedQuestion,
      pointerLoop,
      Buffer.alloc(5000),
    ]) {
      expect(r.respond(packet, 'udp', '198.51.100.7')).toBeNull();
    }
    expect(r.stats.malformed).toBe(7);
  });

  it('NOTIMP for other opcodes, REFUSED for names the codec cannot represent, from the header alone', async () => {
    const { responder: r } = await responder();
    const notify = queryPacket(ZONE, 'SOA');
    notify[2] = (notify[2] & 0x87) | (4 << 3);
    expect(decode(r.respond(notify, 'udp', '198.51.100.7'))).toMatchObject({
      rcode: 'NOTIMP',
      opcode: 'NOTIFY',
    });
    const odd = queryPacket(`abc.${ZONE}`, 'A');
    odd[13] = 0xff; // a byte that is not printable ASCII in the first label
    const out = r.respond(odd, 'udp', '198.51.100.7')!;
    expect(out[3] & 0xf).toBe(5);
    expect(Buffer.from(out.subarray(12))).toEqual(Buffer.from(odd.subarray(12)));
  });

  it('answers repeated identical queries from its cache, with the id of each query, until the view changes', async () => {
    const { responder: r } = await responder();
    const a = decode(r.respond(queryPacket(`c.${ZONE}`, 'A', { id: 1 }), 'udp', '198.51.100.7'));
    const b = decode(r.respond(queryPacket(`c.${ZONE}`, 'A', { id: 2 }), 'udp', '198.51.100.9'));
    expect([a.id, b.id]).toEqual([1, 2]);
    expect(b.answers).toEqual(a.answers);
    expect(r.stats.cacheHits).toBe(1);
  });

  it('keys IPv6 sources by /64', () => {
    expect(sourceKey('2001:db8:1:2:3:4:5:6')).toBe('2001:db8:1:2::/64');
    expect(sourceKey('2001:db8:1:2::9')).toBe('2001:db8:1:2::/64');
    expect(sourceKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(sourceKey('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(sourceKey('192.0.2.1')).toBe('192.0.2.1');
  });
});
