/**
 * The few raw-wire facts the server reads before handing a packet to the codec (dns-packet): the
 * header counts (so the codec only ever decodes one question and at most two additional records),
 * and the question's exact bytes (echoed as asked, case included, RFC 1035 4.1.2 and the 0x20
 * resolvers' check). Never throws: a packet it cannot read is `null`, and the caller drops it.
 */

export const HEADER_BYTES = 12;
/** No query needs more (a name is at most 255 bytes; EDNS options here are a cookie or padding). */
export const MAX_QUERY_BYTES = 4096;

export const FLAG_QR = 0x8000;
export const FLAG_AA = 0x0400;
export const FLAG_TC = 0x0200;
export const FLAG_RD = 0x0100;
export const FLAG_CD = 0x0010;

export const RCODE = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
} as const;

export interface RawQuery {
  id: number;
  flags: number;
  opcode: number;
  qdcount: number;
  ancount: number;
  nscount: number;
  arcount: number;
  /** The question's bytes (name, type, class), or null when there is none or it is unreadable. */
  question: Uint8Array | null;
  /** Lower-case name without the trailing dot ("" for the root); null unless every label is plain printable ASCII. */
  name: string | null;
}

/** Reads the header and the question of a query; null when even the header is unreadable. */
export function readQuery(packet: Uint8Array): RawQuery | null {
  if (packet.length < HEADER_BYTES) return null;
  const u16 = (at: number) => (packet[at] << 8) | packet[at + 1];
  const flags = u16(2);
  const raw: RawQuery = {
    id: u16(0),
    flags,
    opcode: (flags >> 11) & 0xf,
    qdcount: u16(4),
    ancount: u16(6),
    nscount: u16(8),
    arcount: u16(10),
    question: null,
    name: null,
  };
  if (raw.qdcount !== 1) return raw;
  let at = HEADER_BYTES;
  const labels: string[] = [];
  let plain = true;
  for (;;) {
    if (at >= packet.length) return raw;
    const len = packet[at];
    if (len === 0) break;
    // A query's name comes first, so a compression pointer (or a reserved label type) has nothing to point at.
    if (len > 63 || at + 1 + len > packet.length || at + 1 + len - HEADER_BYTES > 255) return raw;
    let label = '';
    for (let i = at + 1; i <= at + len; i++) {
      const c = packet[i];
      if (c <= 0x20 || c >= 0x7f || c === 0x2e || c === 0x5c) plain = false;
      label += String.fromCharCode(c >= 0x41 && c <= 0x5a ? c + 32 : c);
    }
    labels.push(label);
    at += 1 + len;
  }
  const end = at + 1 + 4;
  if (end > packet.length) return raw;
  raw.question = packet.subarray(HEADER_BYTES, end);
  raw.name = plain ? labels.join('.') : null;
  return raw;
}

/**
 * A response made of the query's header and question only (REFUSED for a name the codec cannot
 * represent, NOTIMP, FORMERR, a truncated reply to a rate-limited client): no codec involved.
 */
export function bareResponse(query: RawQuery, rcode: number, extraFlags = 0): Uint8Array {
  const question = query.question;
  const out = new Uint8Array(HEADER_BYTES + (question?.length ?? 0));
  const flags =
    FLAG_QR |
    (query.opcode << 11) |
    (query.flags & (FLAG_RD | FLAG_CD)) |
    extraFlags |
    (rcode & 0xf);
  out[0] = query.id >> 8;
  out[1] = query.id & 0xff;
  out[2] = flags >> 8;
  out[3] = flags & 0xff;
  if (question) {
    out[5] = 1;
    out.set(question, HEADER_BYTES);
  }
  return out;
}
