/** Dispatches a WebDAV request under /dav/ to its method. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Principal } from '../auth/accounts.ts';
import { CloudError } from '../errors.ts';
import { makeContext, type DavDeps } from './context.ts';
import { lock, unlock } from './lock-methods.ts';
import { copyOrMove, DAV_METHODS, get, mkcol, options, put, remove } from './methods.ts';
import { propfind, proppatch } from './props.ts';

export async function handleDav(
  req: IncomingMessage,
  res: ServerResponse,
  deps: DavDeps,
  principal: Principal,
  origin: URL,
  encodedPath: string,
): Promise<void> {
  const ctx = makeContext(req, res, deps, principal, origin, encodedPath);
  switch (req.method) {
    case 'OPTIONS':
      return options(ctx);
    case 'GET':
    case 'HEAD':
      return get(ctx);
    case 'PUT':
      return put(ctx);
    case 'DELETE':
      return remove(ctx);
    case 'MKCOL':
      return mkcol(ctx);
    case 'COPY':
      return copyOrMove(ctx, false);
    case 'MOVE':
      return copyOrMove(ctx, true);
    case 'PROPFIND':
      return propfind(ctx);
    case 'PROPPATCH':
      return proppatch(ctx);
    case 'LOCK':
      return lock(ctx);
    case 'UNLOCK':
      return unlock(ctx);
    default:
      res.setHeader('allow', DAV_METHODS);
      throw new CloudError('METHOD_NOT_ALLOWED', `${req.method} is not a WebDAV method here`);
  }
}
