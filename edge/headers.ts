/**
 * The edge's header rules: hop-by-hop fields never cross it (shared/hop-by-hop.ts), the fields only
 * the edge may speak are replaced, and the node learns who asked (X-Forwarded-*).
 */
import { connectionTokens, isHopByHop, rawConnectionTokens } from '../shared/hop-by-hop.ts';
import { INGRESS_HEADERS, NODE_ERROR_HEADER } from '../shared/records/api.ts';

/**
 * Request fields the edge never passes on besides the hop-by-hop ones: Host (the target's URL sets
 * it), Expect (100-continue ends at the edge: fetch clients cannot send it), and the fields only the
 * edge speaks, which a client may not set itself.
 */
const EDGE_OWNED = new Set([
  'host',
  'expect',
  INGRESS_HEADERS.nodeId,
  INGRESS_HEADERS.edgeToken,
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'forwarded',
]);

/** Whether a request field (lower-case name) crosses to the target. */
const forwardsRequestHeader = (key: string, listed: Set<string> | undefined): boolean =>
  !EDGE_OWNED.has(key) && !isHopByHop(key, listed);

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

/** Request headers for the targets: hop-by-hop and edge-owned ones dropped, X-Forwarded-* set. */
export function forwardedRequestHeaders(incoming: Headers, info: ForwardInfo): Headers {
  const listed = connectionTokens(incoming.get('connection'));
  const out = new Headers();
  incoming.forEach((value, key) => {
    if (forwardsRequestHeader(key, listed)) out.append(key, value);
  });
  for (const [key, value] of forwardedFields(info)) out.set(key, value);
  return out;
}

/**
 * The same rules as `forwardedRequestHeaders`, over Node.js's raw [name, value, ...] list, giving a raw
 * list with lower-case names (repeated fields stay separate: a Headers object would join them).
 */
export function forwardedRawHeaders(raw: readonly string[], info: ForwardInfo): string[] {
  const listed = rawConnectionTokens(raw);
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const key = raw[i].toLowerCase();
    if (forwardsRequestHeader(key, listed)) out.push(key, raw[i + 1]);
  }
  for (const field of forwardedFields(info)) out.push(...field);
  return out;
}

/** Whether a response field (lower-case name) stays away from the client. */
export const dropsResponseHeader = (
  key: string,
  listed: ReadonlySet<string> | undefined,
): boolean =>
  key === INGRESS_HEADERS.relayError || key === NODE_ERROR_HEADER || isHopByHop(key, listed);

/** Response headers for the client: hop-by-hop ones dropped, framing (length, encoding, range) kept. */
export function clientResponseHeaders(target: Headers): Headers {
  const listed = connectionTokens(target.get('connection'));
  const out = new Headers();
  target.forEach((value, key) => {
    if (!dropsResponseHeader(key, listed)) out.append(key, value);
  });
  // Headers.forEach joins repeated Set-Cookie values; they must stay separate.
  const cookies = target.getSetCookie?.() ?? [];
  if (cookies.length > 1) {
    out.delete('set-cookie');
    for (const c of cookies) out.append('set-cookie', c);
  }
  return out;
}

/** Names of the response headers in `headers` that stay away from the client. */
export function droppedResponseHeaders(headers: Headers): string[] {
  const listed = connectionTokens(headers.get('connection'));
  const names: string[] = [];
  headers.forEach((_, key) => {
    if (dropsResponseHeader(key, listed) && !names.includes(key)) names.push(key);
  });
  return names;
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
