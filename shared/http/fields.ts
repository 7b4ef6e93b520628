/**
 * What HTTP/1.1 request and response heads share, read strictly (RFC 9112): where a head ends, its
 * lines split, field names as tokens, values without control bytes, and the three fields that decide
 * how the body is framed and whether the connection is kept. Never throws.
 */
import { ok, type Result, type SharedError } from '../errors.ts';

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

/** Bytes as latin1 text, one character per byte (TextDecoder's 'latin1' is windows-1252). */
export function latin1(bytes: Uint8Array): string {
  let text = '';
  for (let i = 0; i < bytes.length; i += 4096)
    text += String.fromCharCode.apply(null, bytes.subarray(i, i + 4096) as unknown as number[]);
  return text;
}

/** tchar of RFC 9110 5.6.2, by byte. */
const TOKEN = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~") TOKEN[c.charCodeAt(0)] = 1;
for (let c = 48; c <= 57; c++) TOKEN[c] = 1;
for (let c = 65; c <= 90; c++) TOKEN[c] = TOKEN[c + 32] = 1;

export function isToken(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 127 || TOKEN[c] === 0) return false;
  }
  return true;
}

/** Field value bytes allowed: HTAB, visible ASCII, SP and obs-text (no CR, LF, NUL or other controls). */
export function isFieldValue(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 9) || c === 0x7f) return false;
  }
  return true;
}

export interface Fields {
  /** Names and values as received, flat: [name, value, name, value, ...]. */
  rawHeaders: string[];
  contentLength?: number;
  /** Every Transfer-Encoding value, joined with ', '. */
  transferEncoding?: string;
  /** The Connection tokens, lower-case. */
  connection: string[];
}

/**
 * The head's lines (`text` split at CRLF, the start line first, ending with two empty strings) and
 * its fields; `bad` names what is wrong.
 */
export function headLines(
  text: string,
  bad: (message: string) => Result<never, SharedError>,
): Result<{ start: string; fields: Fields }, SharedError> {
  const lines = text.split('\r\n');
  // The head ends with an empty line: the last two elements are ''.
  if (lines.length < 3 || lines[lines.length - 1] !== '' || lines[lines.length - 2] !== '')
    return bad('head does not end with an empty line');
  const fields: Fields = { rawHeaders: [], connection: [] };
  for (let i = 1; i < lines.length - 2; i++) {
    const line = lines[i];
    if (line.includes('\n') || line.includes('\r')) return bad('bare CR or LF in the head');
    const colon = line.indexOf(':');
    if (colon <= 0) return bad(`header line ${JSON.stringify(line.slice(0, 80))}`);
    const name = line.slice(0, colon);
    if (!isToken(name)) return bad(`header name ${JSON.stringify(name.slice(0, 80))}`);
    const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '');
    if (!isFieldValue(value)) return bad(`control bytes in header ${name}`);
    fields.rawHeaders.push(name, value);
    const lower = name.toLowerCase();
    if (lower === 'content-length') {
      if (!/^\d{1,15}$/.test(value)) return bad(`Content-Length ${JSON.stringify(value)}`);
      const n = Number(value);
      if (fields.contentLength !== undefined && fields.contentLength !== n)
        return bad('differing Content-Length headers');
      fields.contentLength = n;
    } else if (lower === 'transfer-encoding') {
      fields.transferEncoding =
        fields.transferEncoding === undefined ? value : `${fields.transferEncoding}, ${value}`;
    } else if (lower === 'connection') {
      for (const t of value.split(',')) fields.connection.push(t.trim().toLowerCase());
    }
  }
  return ok({ start: lines[0], fields });
}
