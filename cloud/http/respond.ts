/** Writing responses and reading bounded request bodies: the one place errors become HTTP. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { CloudError } from '../errors.ts';
import type { Logger } from '../options.ts';

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

export function sendError(res: ServerResponse, error: unknown, logger: Logger): void {
  if (error instanceof CloudError) {
    const headers: Record<string, string> = {};
    if (error.code === 'UNAUTHENTICATED')
      headers['www-authenticate'] = 'Basic realm="PC2 cloud", charset="UTF-8"';
    if (error.code === 'RATE_LIMITED') headers['retry-after'] = '60';
    sendJson(res, error.status, { error: { code: error.code, message: error.message } }, headers);
    return;
  }
  logger.error('cloud request failed', {
    error: error instanceof Error ? error.stack : String(error),
  });
  sendJson(res, 500, { error: { code: 'INTERNAL', message: 'internal error' } });
}

/** Reads a whole body of at most `limit` bytes (JSON and XML routes only; files are streamed). */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) {
    req.resume();
    throw new CloudError('TOO_LARGE', `the body is larger than ${limit} bytes`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new CloudError('TOO_LARGE', `the body is larger than ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

export async function readJson(
  req: IncomingMessage,
  limit: number,
): Promise<Record<string, unknown>> {
  const type = String(req.headers['content-type'] ?? '');
  const body = await readBody(req, limit);
  if (body.length === 0) return {};
  if (!/^application\/json\b/i.test(type))
    throw new CloudError('UNSUPPORTED_MEDIA_TYPE', 'send JSON with Content-Type: application/json');
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    throw new CloudError('INVALID_JSON', 'the body is not valid JSON');
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new CloudError('INVALID_JSON', 'the body must be a JSON object');
  return value as Record<string, unknown>;
}

export function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out.set(part.slice(0, i).trim(), part.slice(i + 1).trim());
  }
  return out;
}

/** Reads and drops the rest of a request body of at most `limit` bytes; false if it is larger or broken. */
export function drain(req: IncomingMessage, limit: number): Promise<boolean> {
  if (req.complete || req.destroyed) return Promise.resolve(req.complete);
  if (Number(req.headers['content-length'] ?? 0) > limit) return Promise.resolve(false);
  return new Promise((resolve) => {
    let seen = 0;
    const done = (ok: boolean): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      resolve(ok);
    };
    const onData = (chunk: Buffer): void => {
      seen += chunk.length;
      if (seen > limit) {
        req.pause();
        done(false);
      }
    };
    const onEnd = (): void => done(true);
    const onError = (): void => done(false);
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.resume();
  });
}
