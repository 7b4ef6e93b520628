/** IP addresses as text and as raw 4/16 bytes (NodeInfo, Active Proxy CONNECT); the "global" address test. */

/** Raw bytes of an IPv4 or IPv6 address text, or null if it is neither. */
export function ipToBytes(text: string): Uint8Array | null {
  if (text.includes(':')) return ipv6ToBytes(text);
  return ipv4ToBytes(text);
}

function ipv4ToBytes(text: string): Uint8Array | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(parts[i])) return null;
    const n = Number(parts[i]);
    if (n > 255) return null;
    out[i] = n;
  }
  return out;
}

function ipv6ToBytes(input: string): Uint8Array | null {
  const text = input.replace(/%.*$/, '');
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const groups = (part: string): number[] | null => {
    if (part === '') return [];
    const out: number[] = [];
    const pieces = part.split(':');
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i];
      if (i === pieces.length - 1 && piece.includes('.')) {
        const v4 = ipv4ToBytes(piece);
        if (!v4) return null;
        out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(piece)) return null;
        out.push(parseInt(piece, 16));
      }
    }
    return out;
  };
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  if (!head || !tail) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const all = [...head, ...new Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
  const out = new Uint8Array(16);
  all.forEach((g, i) => {
    out[i * 2] = g >> 8;
    out[i * 2 + 1] = g & 0xff;
  });
  return out;
}

/** Text form: dotted quad, or RFC 5952 IPv6 (longest zero run compressed, lower case). */
export function bytesToIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return Array.from(bytes).join('.');
  if (bytes.length !== 16) throw new RangeError('an IP address is 4 or 16 bytes');
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i] << 8) | bytes[i + 1]);
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return hex.slice(0, bestStart).join(':') + '::' + hex.slice(bestStart + bestLength).join(':');
}

/**
 * True for an address a public DHT should route to: not unspecified, loopback, private, link-local,
 * shared (CGNAT), multicast, documentation or reserved.
 */
export function isGlobalAddress(bytes: Uint8Array): boolean {
  if (bytes.length === 4) {
    const [a, b] = bytes;
    if (a === 0 || a === 10 || a === 127 || a >= 224) return false;
    if (a === 100 && b >= 64 && b < 128) return false;
    if (a === 169 && b === 254) return false;
    if (a === 172 && b >= 16 && b < 32) return false;
    if (a === 192 && b === 168) return false;
    if (a === 192 && b === 0 && (bytes[2] === 0 || bytes[2] === 2)) return false;
    if (a === 198 && (b === 18 || b === 19)) return false;
    if (a === 198 && b === 51 && bytes[2] === 100) return false;
    if (a === 203 && b === 0 && bytes[2] === 113) return false;
    return true;
  }
  if (bytes.length !== 16) return false;
  if (bytes.subarray(0, 10).every((x) => x === 0) && bytes[10] === 0xff && bytes[11] === 0xff) {
    return isGlobalAddress(bytes.subarray(12));
  }
  // Global unicast is 2000::/3, minus documentation 2001:db8::/32.
  if ((bytes[0] & 0xe0) !== 0x20) return false;
  if (bytes[0] === 0x20 && bytes[1] === 0x01 && bytes[2] === 0x0d && bytes[3] === 0xb8)
    return false;
  return true;
}
