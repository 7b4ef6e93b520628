/**
 * The client address a request is charged to. X-Forwarded-For is believed only when the peer
 * socket is a configured proxy (an edge); then the rightmost address not itself a trusted proxy is
 * the client, since anything left of it was written by the client.
 */
export function normalizeIp(ip: string): string {
  const bare = ip
    .trim()
    .replace(/^\[|\]$/g, '')
    .toLowerCase();
  return bare.startsWith('::ffff:') && bare.includes('.') ? bare.slice(7) : bare;
}

export function clientIp(
  remote: string | undefined,
  forwardedFor: string | undefined,
  trustedProxies: ReadonlySet<string>,
): string {
  const peer = normalizeIp(remote ?? 'unknown');
  if (!forwardedFor || !trustedProxies.has(peer)) return peer;
  const hops = forwardedFor
    .split(',')
    .map(normalizeIp)
    .filter((h) => h.length > 0);
  for (let i = hops.length - 1; i >= 0; i--) {
    if (!trustedProxies.has(hops[i])) return hops[i];
  }
  return hops[0] ?? peer;
}
