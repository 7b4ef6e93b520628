/**
 * The head of an HTTP/1.1 request, parsed strictly for a proxy that passes the body on as it is: only
 * what leaves no doubt about where the body ends is accepted (a Content-Length, or chunked alone).
 * Anything else, malformed or merely unusual (HTTP/1.0, an obsolete fold, other transfer codings), is
 * an error value, for the caller to refuse or hand to a full HTTP server. Never throws.
 */
import { err, ok, type Result, SharedError } from '../errors.ts';
import { type Fields, headLines, latin1 } from './fields.ts';

export interface RequestHead {
  method: string;
  /** The request target as sent (origin form, or absolute form from a proxy). */
  target: string;
  fields: Fields;
  /** How the body ends: none, a length, or chunked (RFC 9112 6.3). */
  body: { kind: 'length'; bytes: number } | { kind: 'chunked' };
  /** The client keeps the connection after this request (no `Connection: close`). */
  keepAlive: boolean;
}

const bad = (message: string): Result<never, SharedError> =>
  err(new SharedError('BAD_HTTP', `bad request: ${message}`));

/** Visible ASCII, no space: a request target's bytes (RFC 9112 3.2). */
const TARGET = /^[\x21-\x7e]+$/;
const METHOD = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** Parses `head` (the bytes up to and including CRLF CRLF) of an HTTP/1.1 request. */
export function parseRequestHead(head: Uint8Array): Result<RequestHead, SharedError> {
  const parsed = headLines(latin1(head), bad);
  if (!parsed.ok) return parsed;
  const { start, fields } = parsed.value;
  const parts = start.split(' ');
  if (parts.length !== 3 || !METHOD.test(parts[0]) || !TARGET.test(parts[1]))
    return bad(`request line ${JSON.stringify(start.slice(0, 80))}`);
  if (parts[2] !== 'HTTP/1.1') return bad(`version ${JSON.stringify(parts[2].slice(0, 16))}`);
  let hosts = 0;
  for (let i = 0; i < fields.rawHeaders.length; i += 2)
    if (fields.rawHeaders[i].length === 4 && fields.rawHeaders[i].toLowerCase() === 'host') hosts++;
  if (hosts !== 1) return bad(`${hosts} Host headers`);
  let body: RequestHead['body'];
  if (fields.transferEncoding !== undefined) {
    if (fields.contentLength !== undefined) return bad('both Transfer-Encoding and Content-Length');
    if (fields.transferEncoding.toLowerCase() !== 'chunked')
      return bad(`Transfer-Encoding ${JSON.stringify(fields.transferEncoding.slice(0, 80))}`);
    body = { kind: 'chunked' };
  } else body = { kind: 'length', bytes: fields.contentLength ?? 0 };
  return ok({
    method: parts[0],
    target: parts[1],
    fields,
    body,
    keepAlive: !fields.connection.includes('close'),
  });
}
