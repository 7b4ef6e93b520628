/**
 * Request body limits of the super node's HTTP API, one rule for every route: a body larger than the
 * route takes is refused with 413 BODY_TOO_LARGE before any of it is read when Content-Length says
 * so, and as soon as the count passes the limit while a chunked body streams in; the connection is
 * closed after the answer, so the rest of a large body is never read either. Routes without a body
 * (GET, HEAD) take none.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';

const TOO_LARGE = 413;

function errorJson(max: number): string {
  return JSON.stringify({
    error: { code: 'BODY_TOO_LARGE', message: `the body of this request is at most ${max} bytes` },
  });
}

/** Hono middleware: the route's body is at most `max` bytes (0: none at all). */
export function limitBody(max: number): MiddlewareHandler {
  const onError = (c: Context) =>
    c.body(errorJson(max), TOO_LARGE, {
      'content-type': 'application/json',
      connection: 'close',
    });
  return bodyLimit({ maxSize: max, onError });
}

/** Whether a node:http request declares or streams a body (Content-Length > 0, or chunked). */
export function hasBody(req: IncomingMessage): boolean {
  return (
    req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0
  );
}

/**
 * The node:http side of the rule, ahead of any router: GET and HEAD carry no body, and nothing is
 * larger than `max` (the largest route's). True when it answered 413.
 */
export function refuseBody(req: IncomingMessage, res: ServerResponse, max: number): boolean {
  const declared = Number(req.headers['content-length'] ?? 0);
  const bodiless = req.method === 'GET' || req.method === 'HEAD';
  if (!(bodiless ? hasBody(req) : declared > max)) return false;
  const json = errorJson(bodiless ? 0 : max);
  res.writeHead(TOO_LARGE, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(json),
    connection: 'close',
  });
  res.end(json);
  return true;
}

/**
 * Reads a node:http body of at most `max` bytes as text; rejects with `tooLarge()` before reading
 * when Content-Length says more, and as soon as more has streamed in (the rest is left unread).
 */
export function readBodyText(
  req: IncomingMessage,
  max: number,
  tooLarge: () => Error,
): Promise<string> {
  return new Promise((resolve, reject) => {
    if (Number(req.headers['content-length'] ?? 0) > max) return reject(tooLarge());
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= max) return void chunks.push(chunk);
      req.off('data', onData);
      req.pause();
      reject(tooLarge());
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
