/**
 * Writes a response: the header, the question exactly as asked, and the records, each encoded by
 * dns-packet except its owner name, which is compressed (RFC 1035 4.1.4) against the question: the
 * answers' owner is the question name and the SOA's and NS's the zone, a suffix of it, so most owners
 * shrink to a two-byte pointer. dns-packet does not compress, and without it a two-value TXT answer
 * would not fit the amplification budget of a small query.
 */
import dnsPacket, { type Answer } from 'dns-packet';
import { HEADER_BYTES } from './wire.ts';

const codec = dnsPacket as unknown as {
  answer: { encode(a: Answer): Buffer };
  name: { encode(name: string): Buffer };
};

export interface ResponseParts {
  id: number;
  flags: number;
  /** The question's bytes as received (name, type, class). */
  question: Uint8Array;
  /** The question name, lower-case, without the trailing dot (plain ASCII: wire.ts checked it). */
  qname: string;
  answers: Answer[];
  authorities: Answer[];
  additionals: Answer[];
}

/**
 * The owner name, its longest suffix that is also a suffix of the question name replaced by a pointer.
 * For a plain-ASCII name the label starting at index i of the dotted text starts at byte i of its
 * wire form, so the pointer is the question's offset plus that index.
 */
function ownerName(name: string, qname: string): Buffer {
  const bare = name.endsWith('.') ? name.slice(0, -1) : name;
  const lower = bare.toLowerCase();
  for (let at = 0; at >= 0 && at < lower.length; at = lower.indexOf('.', at) + 1 || -1) {
    const length = lower.length - at;
    const start = qname.length - length;
    if (
      start < 0 ||
      (start > 0 && qname[start - 1] !== '.') ||
      !qname.endsWith(at === 0 ? lower : lower.slice(at))
    )
      continue;
    const head = at === 0 ? [] : bare.slice(0, at - 1).split('.');
    const out = Buffer.allocUnsafe(head.reduce((n, l) => n + 1 + l.length, 0) + 2);
    let o = 0;
    for (const label of head) {
      out[o++] = label.length;
      o += out.write(label, o, 'latin1');
    }
    out.writeUInt16BE(0xc000 | (HEADER_BYTES + start), o);
    return out;
  }
  return codec.name.encode(bare === '' ? '.' : bare);
}

/** A zone's records are few and the same for every name: what follows the owner is encoded once. */
const tails = new Map<string, Buffer>();
const MAX_TAILS = 4096;

function tail(rr: Answer): Buffer {
  const data = (rr as { data?: unknown }).data;
  const key = `${rr.type} ${(rr as { ttl?: number }).ttl} ${typeof data === 'string' ? data : JSON.stringify(data)}`;
  let out = tails.get(key);
  if (!out) {
    // Encoded with the root as owner (one zero byte), which the compressed owner then replaces.
    out = codec.answer.encode({ ...rr, name: '.' } as Answer).subarray(1);
    if (tails.size >= MAX_TAILS) tails.clear();
    tails.set(key, out);
  }
  return out;
}

function record(rr: Answer, qname: string): Buffer[] {
  return rr.type === 'OPT' ? [codec.answer.encode(rr)] : [ownerName(rr.name, qname), tail(rr)];
}

export function encodeResponse(p: ResponseParts): Buffer {
  const parts: Buffer[] = [
    Buffer.allocUnsafe(HEADER_BYTES),
    Buffer.from(p.question.buffer, p.question.byteOffset, p.question.length),
  ];
  for (const list of [p.answers, p.authorities, p.additionals])
    for (const rr of list) parts.push(...record(rr, p.qname));
  const header = parts[0];
  header.writeUInt16BE(p.id, 0);
  header.writeUInt16BE(p.flags, 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(p.answers.length, 6);
  header.writeUInt16BE(p.authorities.length, 8);
  header.writeUInt16BE(p.additionals.length, 10);
  return Buffer.concat(parts);
}
