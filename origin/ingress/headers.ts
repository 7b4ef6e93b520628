/**
 * Header rewriting between the edge and the node's upstream: hop-by-hop headers go (the one rule of
 * shared/hop-by-hop.ts), x-pc2-* go, X-Forwarded-* come.
 */
import type { IncomingMessage } from 'node:http';
import { isHopByHop, rawConnectionTokens } from '../../shared/hop-by-hop.ts';

const isInternal = (name: string) => name.startsWith('x-pc2-');

/** The first address of X-Forwarded-For (the browser, as the edge saw it), else the edge's own address. */
export function clientAddress(req: IncomingMessage): string | undefined {
  const forwarded = req.headers['x-forwarded-for'];
  const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim();
  return first || req.socket.remoteAddress;
}

/**
 * Request headers for the node, as a flat raw list (case kept). X-Forwarded-* set by the edge are kept
 * as they are (the edge token authenticates the edge); missing ones are filled from this hop.
 * `keepUpgrade` keeps Connection/Upgrade for WebSocket handshakes.
 */
export function upstreamRequestHeaders(req: IncomingMessage, keepUpgrade = false): string[] {
  const raw = req.rawHeaders;
  const listed = rawConnectionTokens(raw);
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    if (isInternal(name)) continue;
    if (keepUpgrade && (name === 'connection' || name === 'upgrade')) {
      out.push(raw[i], raw[i + 1]);
      continue;
    }
    if (isHopByHop(name, listed)) continue;
    out.push(raw[i], raw[i + 1]);
  }
  const has = (n: string) => req.headers[n] !== undefined;
  if (!has('x-forwarded-for') && req.socket.remoteAddress)
    out.push('X-Forwarded-For', req.socket.remoteAddress);
  if (!has('x-forwarded-host') && req.headers.host) out.push('X-Forwarded-Host', req.headers.host);
  if (!has('x-forwarded-proto'))
    out.push(
      'X-Forwarded-Proto',
      (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http',
    );
  return out;
}

/** Response headers for the edge: hop-by-hop removed (node:http frames the body itself). */
export function downstreamResponseHeaders(raw: string[]): string[] {
  const listed = rawConnectionTokens(raw);
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    if (isHopByHop(name, listed)) continue;
    out.push(raw[i], raw[i + 1]);
  }
  return out;
}
