/**
 * GET /metrics on the gateway's own port, for operators who expose no separate metrics address:
 * answered only on the apex host and only with `Authorization: Bearer <token>`; a request for
 * /metrics on a node's name is the node's, and goes there.
 */
import { timingSafeEqual } from 'node:crypto';
import type http from 'node:http';
import { nameFromHost } from '../../../shared/records/names.ts';

export interface MetricsEndpoint {
  token: string;
  render(): Promise<{ contentType: string; body: string }>;
}

/** Answers when the request is the apex's /metrics (true); false leaves it to the gateway. */
export function metricsRequest(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  zone: string,
  endpoint: MetricsEndpoint,
): boolean {
  // HTTP/2 requests name their host in :authority.
  const host = req.headers.host ?? (req.headers[':authority'] as string | undefined) ?? '';
  if (nameFromHost(host, zone) !== '') return false;
  const expected = Buffer.from(`Bearer ${endpoint.token}`);
  const given = Buffer.from(req.headers.authorization ?? '');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    const body = JSON.stringify({
      error: { code: 'UNAUTHENTICATED', message: 'metrics need the bearer token' },
    });
    res
      .writeHead(401, {
        'content-type': 'application/json',
        'www-authenticate': 'Bearer realm="metrics"',
        'content-length': Buffer.byteLength(body),
      })
      .end(body);
    return true;
  }
  endpoint.render().then(
    ({ contentType, body }) =>
      res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' }).end(body),
    () => res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics failed\n'),
  );
  return true;
}
