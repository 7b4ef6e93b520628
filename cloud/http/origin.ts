/**
 * How the origin of a request is decided: scheme and host come from X-Forwarded-Proto and
 * X-Forwarded-Host when the TCP peer is a trusted proxy (the node's own tunnel or gateway on
 * loopback by default), else from the socket (TLS or not) and the Host header. The result must be
 * one of the configured public origins; anything else is refused (421), which also stops DNS rebinding.
 */
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';

const first = (value: string | string[] | undefined): string | undefined => {
  const v = Array.isArray(value) ? value[0] : value;
  return v?.split(',')[0]?.trim() || undefined;
};

export function fromTrustedProxy(req: IncomingMessage, trusted: Set<string>): boolean {
  return trusted.has(req.socket.remoteAddress ?? '');
}

export function requestOrigin(
  req: IncomingMessage,
  trusted: Set<string>,
  allowed: readonly URL[],
): URL | undefined {
  const proxied = fromTrustedProxy(req, trusted);
  const proto =
    (proxied && first(req.headers['x-forwarded-proto'])) ||
    ((req.socket as TLSSocket).encrypted ? 'https' : 'http');
  const host = (proxied && first(req.headers['x-forwarded-host'])) || req.headers.host;
  if (!host || (proto !== 'http' && proto !== 'https')) return undefined;
  let url: URL;
  try {
    url = new URL(`${proto}://${host}`);
  } catch {
    return undefined;
  }
  if (url.username || url.password || url.pathname !== '/') return undefined;
  return allowed.find((a) => a.origin === url.origin);
}

/** The client address: the last X-Forwarded-For hop when a trusted proxy added it, else the peer. */
export function clientAddress(req: IncomingMessage, trusted: Set<string>): string {
  const peer = req.socket.remoteAddress ?? 'unknown';
  if (!trusted.has(peer)) return peer;
  const xff = req.headers['x-forwarded-for'];
  const list = (Array.isArray(xff) ? xff.join(',') : (xff ?? ''))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return list.at(-1) ?? peer;
}
