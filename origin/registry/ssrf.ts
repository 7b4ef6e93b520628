/**
 * SSRF guard for direct endpoints: the edge fetches a direct node's endpoint, so an endpoint must be
 * a public http(s) origin, never loopback, private, link-local, CGNAT, multicast, documentation or
 * another special range, for IPv4, IPv6 and hostnames that are literal addresses. The WHATWG URL
 * parser already normalises the odd IPv4 spellings (`0x7f.1`, `2130706433`, `127.1`) to dotted form.
 * Names that resolve to private addresses are the edge's to refuse at connect time.
 */
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
