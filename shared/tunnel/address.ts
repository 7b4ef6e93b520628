/**
 * The external peer's address as CONNECT carries it: port u16 || length u8 || address bytes in a
 * 16-byte slot (4 bytes for IPv4, 16 for IPv6). Text forms are the usual dotted / colon notations.
 */

import { ipToBytes as rawIpToBytes } from '../ip.ts';

export { bytesToIp } from '../ip.ts';

/** Raw bytes of an IPv4 or IPv6 address, or null when `text` is neither. IPv4-mapped IPv6 becomes IPv4. */
export function ipToBytes(text: string): Uint8Array | null {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(text);
  return rawIpToBytes(mapped ? mapped[1] : text);
}
