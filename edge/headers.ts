/** Header rules of the proxy: hop-by-hop headers never cross it; the node learns who asked. */
import { INGRESS_HEADERS } from '../shared/records/api.ts';

/** RFC 9110 7.6.1 connection-specific headers, plus ones a proxy must not forward. */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'expect',
  'host',
  'http2-settings',
]);

/** Headers a client may not set itself: only the edge speaks for the edge. */
const EDGE_OWNED = new Set([
  INGRESS_HEADERS.nodeId,
  INGRESS_HEADERS.edgeToken,
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'forwarded',
]);

/** The header names a Connection value lists (they are hop-by-hop too), added to `into`. */
function addConnectionTokens(value: string | null, into: Set<string>): Set<string> {
  if (value) for (const t of value.split(',')) if (t.trim()) into.add(t.trim().toLowerCase());
  return into;
}

const connectionTokens = (headers: Headers): Set<string> => addConnectionTokens(headers.get('connection'), new Set());

/** Whether a request header (lower-case name) crosses to the upstream. */
const forwardsRequestHeader = (key: string, listed: Set<string> | undefined): boolean =>
  !HOP_BY_HOP.has(key) && !EDGE_OWNED.has(key) && !listed?.has(key);

/** The X-Forwarded-* fields the edge sets, as [name, value] pairs. */
function forwardedFields(info: ForwardInfo): [string, string][] {
  const fields: [string, string][] = info.clientIp ? [['x-forwarded-for', info.clientIp]] : [];
  fields.push(['x-forwarded-host', info.host], ['x-forwarded-proto', info.proto]);
  return fields;
}

export interface ForwardInfo {
  clientIp?: string;
  /** The host the client asked for, with port if any. */
  host: string;
  /** `http` or `https`, as the client reached the edge. */
  proto: string;
}

/** Request headers for the upstream: hop-by-hop and edge-owned ones dropped, X-Forwarded-* set. */
export function upstreamRequestHeaders(incoming: Headers, info: ForwardInfo): Headers {
  const listed = connectionTokens(incoming);
  const out = new Headers();
  incoming.forEach((value, key) => {
    if (forwardsRequestHeader(key, listed)) out.append(key, value);
  });
  for (const [key, value] of forwardedFields(info)) out.set(key, value);
  return out;
}

/**
 * The same rules as `upstreamRequestHeaders`, over Node's raw [name, value, ...] list, giving a raw
 * list with lower-case names (repeated fields stay separate: a Headers object would join them).
 */
export function upstreamRawHeaders(raw: readonly string[], info: ForwardInfo): string[] {
  let listed: Set<string> | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i].length === 10 && raw[i].toLowerCase() === 'connection') listed = addConnectionTokens(raw[i + 1], listed ?? new Set());
  }
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const key = raw[i].toLowerCase();
    if (forwardsRequestHeader(key, listed)) out.push(key, raw[i + 1]);
  }
  for (const field of forwardedFields(info)) out.push(...field);
  return out;
}

/** Response headers for the client: hop-by-hop ones dropped, framing (length, encoding, range) kept. */
export function clientResponseHeaders(upstream: Headers): Headers {
  const listed = connectionTokens(upstream);
  const out = new Headers();
  upstream.forEach((value, key) => {
    if (!HOP_BY_HOP.has(key) && !listed.has(key) && key !== INGRESS_HEADERS.relayError) out.append(key, value);
  });
  // Headers.forEach joins repeated Set-Cookie values; they must stay separate.
  const cookies = upstream.getSetCookie?.() ?? [];
  if (cookies.length > 1) {
    out.delete('set-cookie');
    for (const c of cookies) out.append('set-cookie', c);
  }
  return out;
}

/** Names of the hop-by-hop headers present in `headers`. */
export function hopByHopNames(headers: Headers): string[] {
  const listed = connectionTokens(headers);
  const names: string[] = [];
  headers.forEach((_, key) => {
    if ((HOP_BY_HOP.has(key) || listed.has(key)) && !names.includes(key)) names.push(key);
  });
  return names;
}

/** Whether a response header must not cross the proxy, given the response's Connection header. */
export function isHopByHop(name: string, connection: string | undefined): boolean {
  if (HOP_BY_HOP.has(name)) return true;
  return connection !== undefined && connection.toLowerCase().split(',').some((t) => t.trim() === name);
}

export function isWebSocketUpgrade(headers: Headers): boolean {
  return headers.get('upgrade')?.toLowerCase() === 'websocket';
}

/** `res` with one more header; copies the response when its headers are immutable (a fetch response). */
export function withResponseHeader(res: Response, name: string, value: string): Response {
  try {
    res.headers.set(name, value);
    return res;
  } catch {
    const headers = new Headers(res.headers);
    headers.set(name, value);
    return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
  }
}
