/**
 * The address policy for connections made on someone else's behalf (the edge to a direct node, the
 * probe to an endpoint a node is registering): only public http(s) origins, never loopback, private,
 * link-local, unique-local, CGNAT, multicast, documentation, metadata, IPv4-mapped, NAT64 or another
 * special range. `checkEndpoint` judges a URL as written (the WHATWG URL parser already normalises
 * the odd IPv4 spellings `0x7f.1`, `2130706433`, `127.1`); a host name is judged again at connect
 * time: `publicAddresses` keeps only the public addresses it resolved to, and the caller connects to
 * one of those, never looking the name up a second time (docs/edge.md, "Connect-time checks").
 */
import { SharedError } from './errors.ts';

export type EndpointCheck = { ok: true; url: URL } | { ok: false; reason: string };

const MAX_ENDPOINT_LENGTH = 2048;

/** [first address as number, prefix length] */
const BLOCKED_V4: [string, number][] = [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.31.196.0', 24],
  ['192.52.193.0', 24],
  ['192.88.99.0', 24],
  ['192.168.0.0', 16],
  ['192.175.48.0', 24],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
];

const BLOCKED_V4_RANGES = BLOCKED_V4.map(([base, bits]) => {
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return { base: (ipv4ToNumber(base)! & mask) >>> 0, mask };
});

export function ipv4ToNumber(text: string): number | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return null;
    n = n * 256 + Number(p);
  }
  return n >>> 0;
}

export function isPublicIpv4(text: string): boolean {
  const n = ipv4ToNumber(text);
  if (n === null) return false;
  return !BLOCKED_V4_RANGES.some(({ base, mask }) => (n & mask) >>> 0 === base);
}

/** Parses an IPv6 literal (no brackets, no zone) into 8 groups; null if it is not one. */
export function parseIpv6(text: string): number[] | null {
  let hex = text;
  const lastColon = text.lastIndexOf(':');
  if (lastColon >= 0 && text.includes('.', lastColon)) {
    const v4 = ipv4ToNumber(text.slice(lastColon + 1));
    if (v4 === null) return null;
    hex =
      text.slice(0, lastColon + 1) + (v4 >>> 16).toString(16) + ':' + (v4 & 0xffff).toString(16);
  }
  const halves = hex.split('::');
  if (halves.length > 2) return null;
  const parse = (s: string): number[] | null => {
    if (s === '') return [];
    const out: number[] = [];
    for (const g of s.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const left = parse(halves[0]);
  const right = halves.length === 2 ? parse(halves[1]) : [];
  if (!left || !right) return null;
  if (halves.length === 1) return left.length === 8 ? left : null;
  if (left.length + right.length > 7) return null;
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
}

/** Only global unicast (2000::/3) outside the special blocks inside it is public. */
export function isPublicIpv6(text: string): boolean {
  const g = parseIpv6(text);
  if (!g) return false;
  if ((g[0] & 0xe000) !== 0x2000) return false; // loopback, mapped, NAT64, ULA, link-local, multicast...
  if (g[0] === 0x2001 && g[1] < 0x0200) return false; // 2001::/23 IETF protocol assignments (Teredo, ORCHID...)
  if (g[0] === 0x2001 && g[1] === 0x0db8) return false; // documentation
  if (g[0] === 0x2002) return false; // 6to4 embeds an arbitrary IPv4 address
  if (g[0] === 0x3fff && g[1] < 0x1000) return false; // 3fff::/20 documentation
  return true;
}

/** Whether an address (IPv4 dotted, or IPv6 text without brackets or zone) is public. */
export function isPublicAddress(address: string): boolean {
  return address.includes(':') ? isPublicIpv6(address.replace(/%.*$/, '')) : isPublicIpv4(address);
}

/** One address a host name resolved to (node:dns's shape; family 4 or 6). */
export interface ResolvedAddress {
  address: string;
  family: number;
}

/**
 * The resolved addresses one may connect to: every public one, or all of them in developer mode.
 * Empty means refuse (the name points only at loopback, private or other special addresses).
 */
export function publicAddresses(
  resolved: readonly ResolvedAddress[],
  developerMode: boolean,
): ResolvedAddress[] {
  return developerMode ? [...resolved] : resolved.filter((a) => isPublicAddress(a.address));
}

/** node:dns `lookup`'s shape (net.connect's `lookup` option), typed here without node: types. */
export type Lookup = (
  hostname: string,
  options: { all?: boolean; family?: number | string; hints?: number },
  callback: (error: Error | null, address: string | ResolvedAddress[], family?: number) => void,
) => void;

/**
 * A `lookup` for net.connect, tls.connect, node:http or undici's connector that hands the socket only
 * public addresses (all in developer mode): the check and the connection use one resolution, so a
 * name cannot answer "public" to the check and "127.0.0.1" to the connection. Refusal is an error
 * with code ADDRESS_NOT_PUBLIC. (Address literals never reach a lookup: `checkEndpoint` judges them.)
 */
export function guardLookup(lookup: Lookup, developerMode: boolean): Lookup {
  return (hostname, options, callback) => {
    lookup(hostname, { ...options, all: true }, (error, found) => {
      const resolved = Array.isArray(found) ? found : [];
      const allowed = error ? [] : publicAddresses(resolved, developerMode);
      if (error || allowed.length === 0) {
        const refused =
          error ??
          new SharedError(
            'ADDRESS_NOT_PUBLIC',
            `${hostname} resolves to no public address (${resolved.map((a) => a.address).join(', ')})`,
          );
        return options.all ? callback(refused, []) : callback(refused, '', 0);
      }
      if (options.all) callback(null, allowed);
      else callback(null, allowed[0].address, allowed[0].family);
    });
  };
}

const BLOCKED_HOST_SUFFIXES = [
  '.localhost',
  '.local',
  '.internal',
  '.intranet',
  '.home.arpa',
  '.lan',
  '.arpa',
  '.invalid',
  '.test',
  '.example',
  '.onion',
];

/** Checks a direct endpoint; developer mode accepts any well-formed http(s) URL. */
export function checkEndpoint(endpoint: unknown, developerMode: boolean): EndpointCheck {
  if (typeof endpoint !== 'string' || endpoint.length > MAX_ENDPOINT_LENGTH)
    return { ok: false, reason: 'the endpoint is a URL string' };
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return { ok: false, reason: 'the endpoint is not a URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return { ok: false, reason: 'the endpoint must be http or https' };
  if (url.username || url.password)
    return { ok: false, reason: 'the endpoint may not carry credentials' };
  if (developerMode) return { ok: true, url };
  const host = url.hostname.toLowerCase();
  if (host.startsWith('[')) {
    return isPublicIpv6(host.slice(1, -1))
      ? { ok: true, url }
      : { ok: false, reason: `${host} is not a public IPv6 address` };
  }
  if (ipv4ToNumber(host) !== null) {
    return isPublicIpv4(host)
      ? { ok: true, url }
      : { ok: false, reason: `${host} is not a public IPv4 address` };
  }
  if (/^[\d.]+$/.test(host)) return { ok: false, reason: `${host} is not a valid address` };
  const bare = host.replace(/\.$/, '');
  if (
    !bare.includes('.') ||
    bare === 'localhost' ||
    BLOCKED_HOST_SUFFIXES.some((s) => ('.' + bare).endsWith(s))
  ) {
    return { ok: false, reason: `${host} is not a public host name` };
  }
  return { ok: true, url };
}
