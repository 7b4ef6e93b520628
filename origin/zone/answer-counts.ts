/**
 * Answers sent by the name server, by question type and response code, read off the response bytes
 * (the question is echoed at offset 12). Both labels come from fixed lists, so the table stays small
 * whatever the queries hold.
 */
import { PairCounts } from '../registry/counters.ts';

const TYPES: Record<number, string> = {
  1: 'A',
  2: 'NS',
  5: 'CNAME',
  6: 'SOA',
  12: 'PTR',
  13: 'HINFO',
  15: 'MX',
  16: 'TXT',
  28: 'AAAA',
  33: 'SRV',
  43: 'DS',
  48: 'DNSKEY',
  64: 'SVCB',
  65: 'HTTPS',
  252: 'AXFR',
  251: 'IXFR',
  255: 'ANY',
  257: 'CAA',
};
const RCODES = ['NOERROR', 'FORMERR', 'SERVFAIL', 'NXDOMAIN', 'NOTIMP', 'REFUSED'];

export class AnswerCounts {
  readonly #counts = new PairCounts();

  /** Counts one response (never throws, whatever the bytes). */
  count(response: Uint8Array): void {
    if (response.length < 12) return;
    const rcode = RCODES[response[3] & 0x0f] ?? 'OTHER';
    let type = 'NONE';
    if (((response[4] << 8) | response[5]) === 1) {
      let at = 12;
      while (at < response.length && response[at] !== 0 && response[at] < 64)
        at += 1 + response[at];
      if (at + 2 < response.length && response[at] === 0)
        type = TYPES[(response[at + 1] << 8) | response[at + 2]] ?? 'OTHER';
    }
    this.#counts.count(type, rcode);
  }

  entries(): { type: string; rcode: string; count: number }[] {
    return this.#counts.entries().map(([type, rcode, count]) => ({ type, rcode, count }));
  }
}
