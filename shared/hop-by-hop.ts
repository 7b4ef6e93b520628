/**
 * The one hop-by-hop rule of every HTTP hop that passes requests on (the edge, the super node's
 * ingress): these fields describe one connection and never cross to the next one, and neither do
 * the fields a Connection header lists (RFC 9110 7.6.1). Names are lower-case.
 */

/** Connection-specific fields (RFC 9110 7.6.1, and HTTP2-Settings of RFC 9113 3.2.1). */
export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
]);

/** Adds the field names a Connection value lists to `into` (made on the first one); returns it. */
export function connectionTokens(
  value: string | null | undefined,
  into?: Set<string>,
): Set<string> | undefined {
  if (!value) return into;
  for (const t of value.split(',')) {
    const token = t.trim().toLowerCase();
    if (token) (into ??= new Set()).add(token);
  }
  return into;
}

/** The names listed by every Connection field of a raw [name, value, ...] list (undefined: none). */
export function rawConnectionTokens(raw: readonly string[]): Set<string> | undefined {
  let listed: Set<string> | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i].length === 10 && raw[i].toLowerCase() === 'connection')
      listed = connectionTokens(raw[i + 1], listed);
  }
  return listed;
}

/** Whether a field (lower-case name) stays on its hop, given the names its message's Connection lists. */
export function isHopByHop(name: string, listed: ReadonlySet<string> | undefined): boolean {
  return HOP_BY_HOP.has(name) || listed?.has(name) === true;
}
