/**
 * DNS Cookies (RFC 7873) with the server cookie layout of RFC 9018: version 1, three reserved bytes,
 * a 32-bit timestamp and an 8-byte MAC of client cookie, version, timestamp and client address. The
 * MAC is HMAC-SHA-256 under a per-process secret (RFC 9018 names SipHash-2-4 only so that the servers
 * of one anycast address agree; each super node answers from its own addresses). A query that comes
 * back with a valid server cookie proved the client receives at its source address, so it may get a
 * large answer over UDP and is not rate limited: spoofing that address gets nothing amplified.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { ipToBytes } from '../../shared/ip.ts';

export const CLIENT_COOKIE_BYTES = 8;
const SERVER_COOKIE_BYTES = 16;
/** A server cookie is good for an hour, and five minutes of clock ahead is tolerated (RFC 9018). */
const MAX_AGE_S = 3600;
const MAX_AHEAD_S = 300;

export interface ParsedCookie {
  client: Uint8Array;
  server: Uint8Array | null;
}

/** The COOKIE option's data split in client and server part; null for an invalid length (FORMERR). */
export function parseCookie(data: Uint8Array): ParsedCookie | null {
  if (data.length === CLIENT_COOKIE_BYTES) return { client: data, server: null };
  if (data.length < CLIENT_COOKIE_BYTES + 8 || data.length > CLIENT_COOKIE_BYTES + 32) return null;
  return {
    client: data.subarray(0, CLIENT_COOKIE_BYTES),
    server: data.subarray(CLIENT_COOKIE_BYTES),
  };
}

export class CookieJar {
  readonly #secret = randomBytes(32);

  #mac(client: Uint8Array, header: Uint8Array, address: string): Buffer {
    const hmac = createHmac('sha256', this.#secret).update(client).update(header);
    const ip = ipToBytes(address.replace(/^::ffff:(?=\d+\.)/, ''));
    if (ip) hmac.update(ip);
    else hmac.update(address);
    return hmac.digest().subarray(0, 8);
  }

  /** A fresh server cookie for this client cookie and address. */
  make(client: Uint8Array, address: string, nowS: number): Buffer {
    const out = Buffer.alloc(SERVER_COOKIE_BYTES);
    out[0] = 1;
    out.writeUInt32BE(nowS >>> 0, 4);
    this.#mac(client, out.subarray(0, 8), address).copy(out, 8);
    return out;
  }

  /** True when `cookie.server` is one this jar made for this client cookie and address, and still fresh. */
  valid(cookie: ParsedCookie, address: string, nowS: number): boolean {
    const server = cookie.server;
    if (!server || server.length !== SERVER_COOKIE_BYTES || server[0] !== 1) return false;
    const stamp = Buffer.from(server.buffer, server.byteOffset, server.length).readUInt32BE(4);
    // Serial-number arithmetic on the 32-bit timestamp.
    const age = (nowS - stamp) | 0;
    if (age > MAX_AGE_S || age < -MAX_AHEAD_S) return false;
    return timingSafeEqual(
      this.#mac(cookie.client, server.subarray(0, 8), address),
      server.subarray(8),
    );
  }
}
