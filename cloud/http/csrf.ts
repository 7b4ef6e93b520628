/**
 * CSRF: a state-changing request that carries an Origin (every browser request does) must come from
 * the node's own origin; one authenticated by the session cookie must carry it. Requests without
 * Origin and without the cookie (WebDAV clients, scripts with app passwords) have nothing to forge.
 */
import type { IncomingMessage } from 'node:http';
import { CloudError } from '../errors.ts';

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS', 'PROPFIND']);

export function checkOrigin(req: IncomingMessage, origin: URL, viaCookie: boolean): void {
  if (SAFE.has(req.method ?? '')) return;
  if (req.headers['sec-fetch-site'] === 'cross-site')
    throw new CloudError('BAD_ORIGIN', 'cross-site request refused');
  const sent = req.headers.origin;
  if (sent === undefined) {
    if (viaCookie)
      throw new CloudError(
        'BAD_ORIGIN',
        'a request with the session cookie must send an Origin header',
      );
    return;
  }
  if (sent !== origin.origin)
    throw new CloudError('BAD_ORIGIN', `requests must come from ${origin.origin}`);
}
