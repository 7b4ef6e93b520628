/**
 * GET /api/v1/names/:name straight on node:http, ahead of the Hono adapter: resolves are the edge's
 * hot path and need no routing beyond this prefix test. Same answers, limits and error bodies as the
 * Hono route; anything else (including odd encodings) falls through to Hono.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { API_PREFIX } from '../../shared/records/api.ts';
import { RegistryError } from './errors.ts';
import type { RegistryLimits } from './limits.ts';
import type { RegistryService } from './service.ts';

const PREFIX = `${API_PREFIX}/names/`;

function send(res: ServerResponse, status: number, json: string): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(json) });
  res.end(json);
}

/** Answers the request and returns true when it is a resolve; false leaves it untouched. */
export function resolveFastPath(service: RegistryService, limits: RegistryLimits): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    const url = req.url ?? '';
    if (req.method !== 'GET' || !url.startsWith(PREFIX)) return false;
    const rest = url.slice(PREFIX.length);
    if (rest.length === 0 || rest.length > 64 || !/^[a-z0-9-]+$/.test(rest)) return false;
    try {
      const forwarded = req.headers['x-forwarded-for'];
      limits.charge('read', req.socket.remoteAddress, Array.isArray(forwarded) ? forwarded.join(',') : forwarded);
      send(res, 200, service.resolveJson(rest));
    } catch (e) {
      const err = e instanceof RegistryError ? e : new RegistryError('INTERNAL', 'internal error');
      send(res, err.status, JSON.stringify({ error: { code: err.code, message: err.message } }));
    }
    return true;
  };
}
