/**
 * One query in, at most one response out: the DNS server's policy, independent of sockets.
 * - Bounded work: the header is read first and only a one-question query with no answer/authority
 *   records and at most two additional ones reaches the codec; anything else is dropped (malformed)
 *   or answered from the header alone (NOTIMP for other opcodes).
 * - Amplification: over UDP, a client that has not shown a valid server cookie gets at most
 *   `amplificationFactor` times its query's size (and 512 bytes without EDNS); a larger answer loses
 *   its additional section, then comes back truncated (TC, retry over TCP or with the cookie).
 * - Rate limit per source (IPv4 address, IPv6 /64) over UDP, cookie holders exempt: past the bucket,
 *   every `slip`-th query gets an empty truncated answer (a real client behind the address moves to
 *   TCP), the others are dropped.
 * - Identical cookie-less queries (same bytes apart from the id) are answered from a cache that is
 *   emptied whenever the zone view changes.
 */
import dnsPacket, { type Answer, type Packet } from 'dns-packet';
import { RateLimiter } from '../registry/rate-limit.ts';
import { answerQuestion } from './answer.ts';
import { encodeResponse } from './encode.ts';
import { CookieJar, type ParsedCookie, parseCookie } from './cookies.ts';
import type { ZoneView } from './view.ts';
import {
  bareResponse,
  FLAG_AA,
  FLAG_CD,
  FLAG_QR,
  FLAG_RD,
  FLAG_TC,
  MAX_QUERY_BYTES,
  RCODE,
  type RawQuery,
  readQuery,
} from './wire.ts';

export const EDNS_UDP_SIZE = 1232;
const OPTION_COOKIE = 10;
const BADVERS = 16;
const CACHE_ENTRIES = 4096;

export interface ResponderOptions {
  view(): ZoneView;
  /** UDP queries per second and burst per source; false: no limit. */
  rateLimit: { perSec: number; burst: number } | false;
  /** Every n-th rate-limited query gets a truncated answer instead of silence (0: none). */
  slip: number;
  amplificationFactor: number;
  now(): number;
}

export interface DnsStats {
  queries: number;
  answered: number;
  refused: number;
  malformed: number;
  truncated: number;
  rateLimited: number;
  cacheHits: number;
  formerr: number;
  notimp: number;
}

interface Edns {
  udpSize: number;
  flags: number;
  cookie: ParsedCookie | null;
}

export type Transport = 'udp' | 'tcp';

export class Responder {
  readonly stats: DnsStats = {
    queries: 0,
    answered: 0,
    refused: 0,
    malformed: 0,
    truncated: 0,
    rateLimited: 0,
    cacheHits: 0,
    formerr: 0,
    notimp: 0,
  };
  readonly #o: ResponderOptions;
  readonly #cookies = new CookieJar();
  readonly #limiter: RateLimiter | null;
  readonly #cache = new Map<string, Uint8Array>();
  #cacheView: ZoneView | null = null;
  #slipCount = 0;

  constructor(options: ResponderOptions) {
    this.#o = options;
    this.#limiter = options.rateLimit
      ? new RateLimiter(options.rateLimit.perSec, options.rateLimit.burst)
      : null;
  }

  /** The response bytes, or null to send nothing. Never throws. */
  respond(packet: Uint8Array, transport: Transport, address: string): Uint8Array | null {
    this.stats.queries++;
    try {
      return this.#respond(packet, transport, address);
    } catch {
      this.stats.malformed++;
      return null;
    }
  }

  #respond(packet: Uint8Array, transport: Transport, address: string): Uint8Array | null {
    const raw = packet.length <= MAX_QUERY_BYTES ? readQuery(packet) : null;
    // Never answer a response (a reflection loop between two servers) or an unreadable header.
    if (!raw || raw.flags & FLAG_QR) return this.#drop();
    if (raw.opcode !== 0) return this.#count(bareResponse(raw, RCODE.NOTIMP), 'notimp');
    if (!raw.question || raw.ancount !== 0 || raw.nscount !== 0 || raw.arcount > 2)
      return this.#drop();

    const limited =
      transport === 'udp' &&
      this.#limiter !== null &&
      !this.#limiter.take(sourceKey(address), this.#o.now());
    const view = this.#o.view();
    if (view !== this.#cacheView) {
      this.#cache.clear();
      this.#cacheView = view;
    }
    const cacheKey = limited
      ? null
      : transport +
        Buffer.from(packet.buffer, packet.byteOffset + 2, packet.length - 2).toString('latin1');
    const cached = cacheKey ? this.#cache.get(cacheKey) : undefined;
    if (cached) {
      this.stats.cacheHits++;
      this.stats.answered++;
      const out = Buffer.from(cached);
      out[0] = raw.id >> 8;
      out[1] = raw.id & 0xff;
      return out;
    }

    let decoded: Packet;
    try {
      decoded = dnsPacket.decode(Buffer.from(packet.buffer, packet.byteOffset, packet.length));
    } catch {
      return this.#drop();
    }
    const opts = (decoded.additionals ?? []).filter((a) => a.type === 'OPT');
    if (opts.length > 1) return this.#count(bareResponse(raw, RCODE.FORMERR), 'formerr');
    const edns = opts.length === 1 ? readEdns(opts[0]) : null;
    if (edns === 'formerr') return this.#count(bareResponse(raw, RCODE.FORMERR), 'formerr');
    const nowS = Math.floor(this.#o.now() / 1000);
    const proven = edns?.cookie ? this.#cookies.valid(edns.cookie, address, nowS) : false;
    if (limited && !proven) {
      this.stats.rateLimited++;
      if (this.#o.slip > 0 && ++this.#slipCount % this.#o.slip === 0)
        return this.#count(bareResponse(raw, RCODE.NOERROR, FLAG_TC), 'truncated');
      return null;
    }
    if (raw.name === null) return this.#count(bareResponse(raw, RCODE.REFUSED), 'refused');
    if (edns && edns.version !== 0)
      return this.#encode(
        raw,
        edns,
        {
          rcode: 0,
          extended: BADVERS,
          authoritative: false,
          answers: [],
          authorities: [],
          additionals: [],
        },
        address,
        nowS,
        transport,
        proven,
        packet.length,
      );

    const q = decoded.questions![0];
    const result = answerQuestion(view, q.name, raw.name, q.type, q.class ?? 'IN');
    const out = this.#encode(
      raw,
      edns,
      { ...result, rcode: RCODE[result.rcode], extended: 0 },
      address,
      nowS,
      transport,
      proven,
      packet.length,
    );
    if (cacheKey && !edns?.cookie && result.rcode === 'NOERROR' && this.#cache.size < CACHE_ENTRIES)
      this.#cache.set(cacheKey, out);
    return out;
  }

  #drop(): null {
    this.stats.malformed++;
    return null;
  }

  #count(out: Uint8Array, what: 'notimp' | 'formerr' | 'refused' | 'truncated'): Uint8Array {
    this.stats[what]++;
    return out;
  }

  #encode(
    raw: RawQuery,
    edns: (Edns & { version: number }) | null,
    result: {
      rcode: number;
      extended: number;
      authoritative: boolean;
      answers: Answer[];
      authorities: Answer[];
      additionals: Answer[];
    },
    address: string,
    nowS: number,
    transport: Transport,
    proven: boolean,
    querySize: number,
  ): Uint8Array {
    const opt: Answer[] = [];
    if (edns) {
      const options = edns.cookie
        ? [
            {
              code: OPTION_COOKIE,
              data: Buffer.concat([
                edns.cookie.client,
                this.#cookies.make(edns.cookie.client, address, nowS),
              ]),
            },
          ]
        : [];
      // DO is copied (RFC 3225); this zone is unsigned, so nothing else changes with it.
      opt.push({
        type: 'OPT',
        name: '.',
        udpPayloadSize: EDNS_UDP_SIZE,
        extendedRcode: result.extended >> 4,
        ednsVersion: 0,
        flags: edns.flags & 0x8000,
        options,
      } as unknown as Answer);
    }
    let limit = 65535;
    if (transport === 'udp') {
      limit = edns ? Math.min(Math.max(512, edns.udpSize), EDNS_UDP_SIZE) : 512;
      if (!proven) limit = Math.min(limit, this.#o.amplificationFactor * querySize);
    }
    const flags =
      FLAG_QR |
      (raw.opcode << 11) |
      (raw.flags & (FLAG_RD | FLAG_CD)) |
      (result.authoritative ? FLAG_AA : 0) |
      (result.rcode & 0xf);
    const parts = {
      id: raw.id,
      flags,
      question: raw.question!,
      qname: raw.name ?? '',
      answers: result.answers,
      authorities: result.authorities,
      additionals: [...result.additionals, ...opt],
    };
    let out = encodeResponse(parts);
    if (out.length > limit) {
      out = encodeResponse({ ...parts, additionals: opt });
      if (out.length > limit) {
        out = encodeResponse({
          ...parts,
          flags: flags | FLAG_TC,
          answers: [],
          authorities: [],
          additionals: opt,
        });
        this.stats.truncated++;
      }
    }
    if (result.rcode === RCODE.REFUSED) this.stats.refused++;
    else this.stats.answered++;
    return out;
  }
}

function readEdns(opt: Answer): (Edns & { version: number }) | 'formerr' {
  const o = opt as unknown as {
    udpPayloadSize?: number;
    ednsVersion?: number;
    flags?: number;
    options?: { code: number; data: Buffer }[];
  };
  let cookie: ParsedCookie | null = null;
  for (const option of o.options ?? []) {
    if (option.code !== OPTION_COOKIE) continue;
    cookie = parseCookie(option.data);
    if (!cookie) return 'formerr';
  }
  return {
    udpSize: o.udpPayloadSize ?? 512,
    version: o.ednsVersion ?? 0,
    flags: o.flags ?? 0,
    cookie,
  };
}

/** Rate-limit key: an IPv4 address, or the /64 of an IPv6 one (a host gets a whole /64). */
export function sourceKey(address: string): string {
  if (!address.includes(':') || address.startsWith('::ffff:'))
    return address.replace(/^::ffff:/, '');
  const halves = address.split('::');
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length > 1 && halves[1] ? halves[1].split(':') : [];
  const groups =
    halves.length > 1
      ? [...head, ...Array(Math.max(0, 8 - head.length - tail.length)).fill('0'), ...tail]
      : head;
  return (
    groups
      .slice(0, 4)
      .map((g) => g.toLowerCase().replace(/^0+(?=.)/, ''))
      .join(':') + '::/64'
  );
}
