/**
 * The server name (SNI, RFC 6066) of a TLS ClientHello, read from the first bytes of a connection
 * without decrypting or answering anything: what a gateway needs to pass a private name's TLS
 * connection through untouched. Web APIs only (the Node.js and Deno runtimes both use it); never
 * throws: anything that is not a well-formed ClientHello is `not-tls`, and the caller hands the
 * bytes to its own TLS server, which refuses them in TLS's own words.
 */

/** A ClientHello longer than this is not read (real ones are under 2 KiB, post-quantum key shares included). */
export const MAX_CLIENT_HELLO_BYTES = 16 * 1024;

const RECORD_HEADER = 5;
const HANDSHAKE = 22;
const CLIENT_HELLO = 1;
const SERVER_NAME = 0;
const HOST_NAME = 0;
const MAX_RECORD = 16 * 1024 + 256;
const HOST = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*$/;

export type ClientHelloPeek =
  /** More bytes are needed (at most MAX_CLIENT_HELLO_BYTES plus record headers in all). */
  | { kind: 'incomplete' }
  /** A ClientHello: its host name (lower case, no trailing dot), or null when it names none. */
  | { kind: 'hello'; serverName: string | null }
  /** Not a TLS ClientHello, or one too large or malformed to read. */
  | { kind: 'not-tls' };

const INCOMPLETE: ClientHelloPeek = { kind: 'incomplete' };
const NOT_TLS: ClientHelloPeek = { kind: 'not-tls' };

/** Reads the ClientHello at the start of `data` (the bytes a client sent so far). */
export function peekClientHello(data: Uint8Array): ClientHelloPeek {
  // The handshake message may span several records: gather its bytes first.
  const message: Uint8Array[] = [];
  let have = 0;
  let need = -1;
  let offset = 0;
  for (;;) {
    if (data.length < offset + RECORD_HEADER) return INCOMPLETE;
    if (data[offset] !== HANDSHAKE || data[offset + 1] !== 3) return NOT_TLS;
    const length = (data[offset + 3] << 8) | data[offset + 4];
    if (length === 0 || length > MAX_RECORD) return NOT_TLS;
    const start = offset + RECORD_HEADER;
    const available = Math.min(length, data.length - start);
    message.push(data.subarray(start, start + available));
    have += available;
    if (need < 0 && have >= 4) {
      const head = concat(message, 4);
      if (head[0] !== CLIENT_HELLO) return NOT_TLS;
      need = 4 + ((head[1] << 16) | (head[2] << 8) | head[3]);
      if (need > MAX_CLIENT_HELLO_BYTES) return NOT_TLS;
    }
    if (need >= 0 && have >= need) return readHello(concat(message, need).subarray(4));
    if (available < length) return INCOMPLETE;
    offset = start + length;
  }
}

function concat(parts: Uint8Array[], bytes: number): Uint8Array {
  if (parts[0].length >= bytes) return parts[0];
  const out = new Uint8Array(bytes);
  let at = 0;
  for (const part of parts) {
    const take = Math.min(part.length, bytes - at);
    out.set(part.subarray(0, take), at);
    at += take;
    if (at === bytes) break;
  }
  return out;
}

/** The ClientHello body: version, random, session id, cipher suites, compression, extensions. */
function readHello(body: Uint8Array): ClientHelloPeek {
  let at = 2 + 32;
  if (body.length < at + 1) return NOT_TLS;
  at += 1 + body[at];
  if (body.length < at + 2) return NOT_TLS;
  at += 2 + ((body[at] << 8) | body[at + 1]);
  if (body.length < at + 1) return NOT_TLS;
  at += 1 + body[at];
  if (at === body.length) return { kind: 'hello', serverName: null };
  if (body.length < at + 2) return NOT_TLS;
  const end = at + 2 + ((body[at] << 8) | body[at + 1]);
  if (end > body.length) return NOT_TLS;
  at += 2;
  while (at + 4 <= end) {
    const type = (body[at] << 8) | body[at + 1];
    const length = (body[at + 2] << 8) | body[at + 3];
    at += 4;
    if (at + length > end) return NOT_TLS;
    if (type === SERVER_NAME) return { kind: 'hello', serverName: hostName(body, at, length) };
    at += length;
  }
  return at === end ? { kind: 'hello', serverName: null } : NOT_TLS;
}

/** The first host_name of a server_name extension, if it is a DNS name. */
function hostName(body: Uint8Array, start: number, length: number): string | null {
  if (length < 2) return null;
  const end = start + 2 + ((body[start] << 8) | body[start + 1]);
  if (end > start + length) return null;
  let at = start + 2;
  while (at + 3 <= end) {
    const type = body[at];
    const size = (body[at + 1] << 8) | body[at + 2];
    at += 3;
    if (at + size > end) return null;
    if (type === HOST_NAME) {
      let name = '';
      for (let i = at; i < at + size; i++) name += String.fromCharCode(body[i]);
      name = name.toLowerCase().replace(/\.$/, '');
      return HOST.test(name) ? name : null;
    }
    at += size;
  }
  return null;
}
