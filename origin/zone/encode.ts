/**
 * Writes a response: the header, the question exactly as asked, and the records, each encoded by
 * dns-packet except its owner name, which is compressed (RFC 1035 4.1.4) against the question: the
 * answers' owner is the question name and the SOA's and NS's the zone, a suffix of it, so most owners
 * shrink to a two-byte pointer. dns-packet does not compress, and without it a two-value TXT answer
 * would not fit the amplification budget of a small query.
 */
import dnsPacket, { type Answer } from 'dns-packet';
import { HEADER_BYTES } from './wire.ts';

const codec = dnsPacket as unknown as { answer: { encode(a: Answer): Buffer } };

export interface ResponseParts {
  id: number;
  flags: number;
  /** The question's bytes as received (name, type, class). */
  question: Uint8Array;
  answers: Answer[];
  authorities: Answer[];
  additionals: Answer[];
}

/** Lower-case name suffixes of the question name -> their offset in the packet. */
function suffixOffsets(question: Uint8Array): Map<string, number> {
  const labels: { at: number; text: string }[] = [];
  let at = 0;
  while (question[at] !== 0) {
    const len = question[at];
    labels.push({ at, text: Buffer.from(question.subarray(at + 1, at + 1 + len)).toString('latin1').toLowerCase() });
    at += 1 + len;
  }
  const out = new Map<string, number>();
  for (let i = 0; i < labels.length; i++) {
    out.set(labels.slice(i).map((l) => l.text).join('.'), HEADER_BYTES + labels[i].at);
  }
  return out;
}

function ownerName(name: string, suffixes: Map<string, number>): Buffer {
  const labels = name === '.' || name === '' ? [] : name.replace(/\.$/, '').split('.');
  const parts: Buffer[] = [];
  for (let i = 0; i < labels.length; i++) {
    const pointer = suffixes.get(labels.slice(i).join('.').toLowerCase());
    if (pointer !== undefined) {
      parts.push(Buffer.from([0xc0 | (pointer >> 8), pointer & 0xff]));
      return Buffer.concat(parts);
    }
    const label = Buffer.from(labels[i], 'latin1');
    parts.push(Buffer.from([label.length]), label);
  }
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

function record(rr: Answer, suffixes: Map<string, number>): Buffer {
  // Encoded with the root as owner (one zero byte), which is then replaced by the compressed owner.
  const rest = codec.answer.encode({ ...rr, name: '.' } as Answer).subarray(1);
  return rr.type === 'OPT' ? Buffer.concat([Buffer.from([0]), rest]) : Buffer.concat([ownerName(rr.name, suffixes), rest]);
}

export function encodeResponse(p: ResponseParts): Buffer {
  const suffixes = suffixOffsets(p.question);
  const sections = [p.answers, p.authorities, p.additionals].map((list) => list.map((rr) => record(rr, suffixes)));
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeUInt16BE(p.id, 0);
  header.writeUInt16BE(p.flags, 2);
  header.writeUInt16BE(1, 4);
  header.writeUInt16BE(p.answers.length, 6);
  header.writeUInt16BE(p.authorities.length, 8);
  header.writeUInt16BE(p.additionals.length, 10);
  return Buffer.concat([header, p.question, ...sections.flat()]);
}
