/**
 * The registry's hot paths straight on node:http, ahead of the Hono adapter (which would build a web
 * Request and stream for every call): resolves, the edge's hot path, and the signed writes of
 * write-ops.ts. Same answers, limits and error bodies as the Hono routes; anything else (other
 * paths, names outside [a-z0-9-]) falls through to Hono.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { API_PREFIX } from '../../shared/records/api.ts';
import { hasBody, readBodyText } from '../body-limit.ts';
import { RegistryError } from './errors.ts';
import type { RegistryLimits } from './limits.ts';
import type { Logger } from './options.ts';
import type { RegistryService } from './service.ts';
import { MAX_WRITE_BODY_BYTES, WRITE_OPS, type WriteOp, writeBodyField } from './write-ops.ts';

const PREFIX = `${API_PREFIX}/names/`;
const LABEL = /^[a-z0-9-]{1,63}$/;
const OPS = new Map<string, WriteOp>(WRITE_OPS.map((op) => [`${op.method} ${op.action}`, op]));

function send(res: ServerResponse, status: number, json: string): void {
  res.writeHead(status, {
    'content-type': 'application/json',
    'cache-control': 'no-store',
    'content-length': Buffer.byteLength(json),
    // The rest of a body too large is never read: the connection goes.
    ...(status === 413 ? { connection: 'close' } : {}),
  });
  res.end(json);
}

function sendError(res: ServerResponse, e: unknown, logger: Logger): void {
  if (!(e instanceof RegistryError))
    logger.error('registry: unexpected error', { error: (e as Error).message });
  const err = e instanceof RegistryError ? e : new RegistryError('INTERNAL', 'internal error');
  send(res, err.status, JSON.stringify({ error: { code: err.code, message: err.message } }));
}

const tooLarge = () =>
  new RegistryError(
    'BODY_TOO_LARGE',
    `the body of this request is at most ${MAX_WRITE_BODY_BYTES} bytes`,
  );

function forwardedFor(req: IncomingMessage): string | undefined {
  const h = req.headers['x-forwarded-for'];
  return Array.isArray(h) ? h.join(',') : h;
}

/** Answers the request and returns true when it is one of the fast paths; false leaves it untouched. */
export function httpFastPath(
  service: RegistryService,
  limits: RegistryLimits,
  logger: Logger,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    const url = req.url ?? '';
    if (!url.startsWith(PREFIX)) return false;
    const rest = url.slice(PREFIX.length);
    const slash = rest.indexOf('/');
    const name = slash < 0 ? rest : rest.slice(0, slash);
    if (!LABEL.test(name)) return false;
    if (slash < 0) {
      // A GET with a body is the app's to refuse (413).
      if (req.method !== 'GET' || hasBody(req)) return false;
      try {
        limits.charge('read', req.socket.remoteAddress, forwardedFor(req));
        send(res, 200, service.resolveJson(name));
      } catch (e) {
        sendError(res, e, logger);
      }
      return true;
    }
    const op = OPS.get(`${req.method} ${rest.slice(slash + 1)}`);
    if (!op) return false;
    void (async () => {
      try {
        limits.charge('write', req.socket.remoteAddress, forwardedFor(req));
        const text = await readBodyText(req, MAX_WRITE_BODY_BYTES, tooLarge);
        const jws = writeBodyField(text, op.field);
        const budget = limits.budget(req.socket.remoteAddress, forwardedFor(req));
        const { status, body } = await op.run(service, name, jws, budget);
        send(res, status, JSON.stringify(body));
      } catch (e) {
        sendError(res, e, logger);
      }
    })();
    return true;
  };
}
