/**
 * The head of an HTTP/1.1 response read from a node's tunnel stream, parsed strictly: the node's app
 * is not trusted to speak well-formed HTTP, and whatever is let through decides where the next
 * response on a kept-alive stream starts. Anything ambiguous about the body's length (both
 * Transfer-Encoding and Content-Length, differing or malformed Content-Lengths, obsolete line folding,
 * bytes HTTP does not allow in a field) is refused: the ingress answers 502 and drops the stream.
 * Never throws: malformed input is an error value.
 */
import { err, ok, type Result } from '../../shared/errors.ts';
import { TunnelError } from '../tunnel/errors.ts';

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

/** The longest head accepted (Node.js's own default limit is 16 KiB). */
export const MAX_HEAD_BYTES = 64 * 1024;

const CR = 13;
const LF = 10;

/** Where the head ends: the index just past CRLF CRLF in `bytes`, or -1. */
export function headEnd(bytes: Uint8Array, from = 0): number {
  for (let i = Math.max(3, from); i < bytes.length; i++) {
    if (bytes[i] === LF && bytes[i - 1] === CR && bytes[i - 2] === LF && bytes[i - 3] === CR)
      return i + 1;
  }
  return -1;
}

const bad = (message: string): Result<never, TunnelError> =>
  err(new TunnelError('BAD_RESPONSE', `bad response from the node: ${message}`));

/** tchar of RFC 9110 5.6.2, by byte. */
const TOKEN = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~") TOKEN[c.charCodeAt(0)] = 1;
for (let c = 48; c <= 57; c++) TOKEN[c] = 1;
for (let c = 65; c <= 90; c++) TOKEN[c] = TOKEN[c + 32] = 1;

function isToken(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 127 || TOKEN[c] === 0) return false;
  }
  return true;
}

/** Field value bytes allowed: HTAB, visible ASCII, SP and obs-text (no CR, LF, NUL or other controls). */
function isFieldValue(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 9) || c === 0x7f) return false;
  }
  return true;
}

/**
 * Parses `head` (the bytes up to and including CRLF CRLF) of the answer to a request with `method`.
 * 1xx heads are returned as they are (framing none); the caller reads the next head after them.
 */
export function parseResponseHead(
  head: Uint8Array,
  method: string,
): Result<ResponseHead, TunnelError> {
  const text = Buffer.from(head.buffer, head.byteOffset, head.length).toString('latin1');
  const lines = text.split('\r\n');
  // The head ends with an empty line: the last two elements are ''.
  if (lines.length < 3 || lines[lines.length - 1] !== '' || lines[lines.length - 2] !== '')
    return bad('head does not end with an empty line');
  const status = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: ([^\r\n]*))?$/.exec(lines[0]);
  if (!status) return bad(`status line ${JSON.stringify(lines[0].slice(0, 80))}`);
  const http11 = status[1] === '1';
  const code = Number(status[2]);
  const reason = status[3] ?? '';
  if (!isFieldValue(reason)) return bad('control bytes in the reason phrase');
  const rawHeaders: string[] = [];
  let contentLength: number | undefined;
  let transferEncoding: string | undefined;
  let connection = '';
  for (let i = 1; i < lines.length - 2; i++) {
    const line = lines[i];
    if (line.includes('\n') || line.includes('\r')) return bad('bare CR or LF in the head');
    const colon = line.indexOf(':');
    if (colon <= 0) return bad(`header line ${JSON.stringify(line.slice(0, 80))}`);
    const name = line.slice(0, colon);
    if (!isToken(name)) return bad(`header name ${JSON.stringify(name.slice(0, 80))}`);
    const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '');
    if (!isFieldValue(value)) return bad(`control bytes in header ${name}`);
    rawHeaders.push(name, value);
    const lower = name.toLowerCase();
    if (lower === 'content-length') {
      if (!/^\d{1,15}$/.test(value)) return bad(`Content-Length ${JSON.stringify(value)}`);
      const n = Number(value);
      if (contentLength !== undefined && contentLength !== n)
        return bad('differing Content-Length headers');
      contentLength = n;
    } else if (lower === 'transfer-encoding') {
      transferEncoding = transferEncoding === undefined ? value : `${transferEncoding}, ${value}`;
    } else if (lower === 'connection') {
      connection += `,${value.toLowerCase()}`;
    }
  }
  const closes = connection.split(',').some((t) => t.trim() === 'close');
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
