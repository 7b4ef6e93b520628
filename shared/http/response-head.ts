/**
 * The head of an HTTP/1.1 response read from a peer that is not trusted to speak well-formed HTTP (a
 * node's app, as the super node's ingress and the node's entry read it), parsed strictly: whatever is
 * let through decides where the next response on a kept-alive connection starts. Anything ambiguous
 * about the body's length (both Transfer-Encoding and Content-Length, differing or malformed
 * Content-Lengths, obsolete line folding, bytes HTTP does not allow in a field) is refused.
 * Never throws: malformed input is an error value.
 */
import { err, ok, type Result, SharedError } from '../errors.ts';
import { headLines, isFieldValue, latin1 } from './fields.ts';

export { headEnd, MAX_HEAD_BYTES } from './fields.ts';

/** How the body that follows the head ends. */
export type BodyFraming =
  | { kind: 'none' }
  | { kind: 'length'; bytes: number }
  | { kind: 'chunked' }
  /** Read until the node closes the stream (no length given): the stream cannot be kept. */
  | { kind: 'close' };

export interface ResponseHead {
  status: number;
  reason: string;
  /** Names and values as received, flat: [name, value, name, value, ...]. */
  rawHeaders: string[];
  framing: BodyFraming;
  /** The node may keep the stream for another request (HTTP/1.1 without `Connection: close`). */
  keepAlive: boolean;
}

const bad = (message: string): Result<never, SharedError> =>
  err(new SharedError('BAD_HTTP', `bad response: ${message}`));

/**
 * Parses `head` (the bytes up to and including CRLF CRLF) of the answer to a request with `method`.
 * 1xx heads are returned as they are (framing none); the caller reads the next head after them.
 */
export function parseResponseHead(
  head: Uint8Array,
  method: string,
): Result<ResponseHead, SharedError> {
  const parsed = headLines(latin1(head), bad);
  if (!parsed.ok) return parsed;
  const { start, fields } = parsed.value;
  const status = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: ([^\r\n]*))?$/.exec(start);
  if (!status) return bad(`status line ${JSON.stringify(start.slice(0, 80))}`);
  const http11 = status[1] === '1';
  const code = Number(status[2]);
  const reason = status[3] ?? '';
  if (!isFieldValue(reason)) return bad('control bytes in the reason phrase');
  const { rawHeaders, contentLength, transferEncoding } = fields;
  const closes = fields.connection.includes('close');
  let framing: BodyFraming;
  if (code < 200 || code === 204 || code === 304 || method === 'HEAD') framing = { kind: 'none' };
  else if (transferEncoding !== undefined) {
    if (contentLength !== undefined) return bad('both Transfer-Encoding and Content-Length');
    const codings = transferEncoding.split(',').map((t) => t.trim().toLowerCase());
    // Chunked must be last (and only once) for the length to be known; anything else runs to the close.
    framing =
      codings[codings.length - 1] === 'chunked'
        ? codings.indexOf('chunked') === codings.length - 1
          ? { kind: 'chunked' }
          : undefined!
        : { kind: 'close' };
    if (!framing) return bad('chunked applied more than once');
  } else if (contentLength !== undefined) framing = { kind: 'length', bytes: contentLength };
  else framing = { kind: 'close' };
  return ok({
    status: code,
    reason,
    rawHeaders,
    framing,
    keepAlive: http11 && !closes && framing.kind !== 'close',
  });
}
