/**
 * Encoders of the Active Proxy 3.0 frames: `size u16 BE || type byte || payload`, random type byte
 * in range, random padding up to the next multiple of 256 (inside the secret for AUTH, AUTH_ACK,
 * ATTACH, CONNECT and ERROR; in clear for empty frames and after CONNECT_ACK's byte; none for DATA).
 */
import { randomBytes, utf8Encode } from '../bytes.ts';
import { SharedError } from '../errors.ts';
import type { CryptoContext } from '../crypto/context.ts';
import { PUBLIC_KEY_BYTES, SIGNATURE_BYTES } from '../keys.ts';
import { encodeFrameOffer, FRAME_OFFER_BYTES } from './frame-offer.ts';
import { OFFER_TLS_STREAMS, TLS_STREAM_MARKER } from './tls-streams.ts';
import { type FrameKind, randomByte, randomTypeByte, randomUpTo } from './frame-type.ts';
import type {
  AttachFrame,
  AuthAckFrame,
  AuthFrame,
  ConnectFrame,
  EmptyFrameType,
  ErrorFrame,
} from './frames.ts';
import {
  BOX_OVERHEAD,
  CHALLENGE_MAX_BYTES,
  CHALLENGE_MIN_BYTES,
  DATA_CHUNK_BYTES,
  HEADER_BYTES,
  MAX_DATA_BYTES,
  MAX_FRAME_BYTES,
  maxPadding,
} from './limits.ts';

const EMPTY_KINDS: Record<EmptyFrameType, [FrameKind, boolean]> = {
  ATTACH_ACK: ['ATTACH', true],
  PING: ['PING', false],
  PING_ACK: ['PING', true],
  DISCONNECT: ['DISCONNECT', false],
  DISCONNECT_ACK: ['DISCONNECT', true],
};

function header(kind: FrameKind, ack: boolean, size: number): Uint8Array {
  if (size > MAX_FRAME_BYTES)
    throw new SharedError('FRAME_TOO_LARGE', `frame of ${size} bytes exceeds ${MAX_FRAME_BYTES}`);
  return new Uint8Array([size >> 8, size & 0xff, randomTypeByte(kind, ack)]);
}

function patchSize(frame: Uint8Array): Uint8Array {
  if (frame.length > MAX_FRAME_BYTES)
    throw new SharedError(
      'FRAME_TOO_LARGE',
      `frame of ${frame.length} bytes exceeds ${MAX_FRAME_BYTES}`,
    );
  frame[0] = frame.length >> 8;
  frame[1] = frame.length & 0xff;
  return frame;
}

/**
 * header || [clear] || box(fields || padding), padding bounded by the frame's next multiple of 256.
 * The padding starts with `paddingStart` (then random bytes); throws FRAME_TOO_LARGE when that
 * does not fit inside the bound.
 */
function boxedFrame(
  ctx: CryptoContext,
  kind: FrameKind,
  ack: boolean,
  clear: Uint8Array,
  fields: Uint8Array,
  paddingStart?: Uint8Array,
): Uint8Array {
  const unpadded = HEADER_BYTES + clear.length + BOX_OVERHEAD + fields.length;
  const room = maxPadding(unpadded);
  const fixed = paddingStart?.length ?? 0;
  if (fixed > room)
    throw new SharedError(
      'FRAME_TOO_LARGE',
      `${fixed} bytes do not fit in ${room} bytes of padding`,
    );
  const plain = new Uint8Array(fields.length + fixed + randomUpTo(room - fixed));
  plain.set(fields, 0);
  plain.set(randomBytes(plain.length - fields.length), fields.length);
  if (paddingStart) plain.set(paddingStart, fields.length);
  const head = new Uint8Array(HEADER_BYTES + clear.length);
  head.set(header(kind, ack, 0), 0);
  head.set(clear, HEADER_BYTES);
  return patchSize(ctx.encryptAfter(head, plain));
}

/** The challenge: `size u16 || 32..255 random bytes`, no type byte. */
export function encodeChallenge(challenge: Uint8Array): Uint8Array {
  if (challenge.length < CHALLENGE_MIN_BYTES || challenge.length > CHALLENGE_MAX_BYTES) {
    throw new SharedError(
      'FRAME_MALFORMED',
      `a challenge is ${CHALLENGE_MIN_BYTES}..${CHALLENGE_MAX_BYTES} bytes`,
    );
  }
  const out = new Uint8Array(2 + challenge.length);
  out[0] = out.length >> 8;
  out[1] = out.length & 0xff;
  out.set(challenge, 2);
  return out;
}

export function newChallenge(): Uint8Array {
  return randomBytes(CHALLENGE_MIN_BYTES + randomUpTo(CHALLENGE_MAX_BYTES - CHALLENGE_MIN_BYTES));
}

function checkKeyAndSignature(sessionKey: Uint8Array, signature: Uint8Array): void {
  if (sessionKey.length !== PUBLIC_KEY_BYTES)
    throw new SharedError('INVALID_KEY', 'a session key is 32 bytes');
  if (signature.length !== SIGNATURE_BYTES)
    throw new SharedError('INVALID_SIGNATURE', 'a signature is 64 bytes');
}

/** AUTH, boxed under the peer context (device key, service peer key). */
export function encodeAuth(peer: CryptoContext, f: Omit<AuthFrame, 'type'>): Uint8Array {
  checkKeyAndSignature(f.sessionKey, f.signature);
  const fields = new Uint8Array(2 + 32 + 32 + 1 + 64);
  fields[0] = f.version >> 8;
  fields[1] = f.version & 0xff;
  fields.set(f.userId.bytes, 2);
  fields.set(f.sessionKey, 34);
  fields[66] = f.nameAccess & 0xff;
  fields.set(f.signature, 67);
  return boxedFrame(peer, 'AUTH', false, f.deviceId.bytes, fields, offerOf(f));
}

/**
 * The pc2 offer (./frame-offer.ts) when any extension is stated (a client that takes TLS streams but
 * not large frames offers the stock DATA size); a frame with none is stock.
 */
function offerOf(f: {
  maxDataBytes?: number;
  pool?: number;
  tlsStreams?: boolean;
}): Uint8Array | undefined {
  if (f.maxDataBytes === undefined && !f.pool && !f.tlsStreams) return undefined;
  const flags = f.tlsStreams ? OFFER_TLS_STREAMS : 0;
  return encodeFrameOffer(f.maxDataBytes ?? DATA_CHUNK_BYTES, f.pool ?? 0, flags);
}

/** Whether an AUTH_ACK with these endpoints has padding room for the large-frame offer (./frame-offer.ts). */
export function authAckFitsOffer(endpoint: string, namedEndpoint: string): boolean {
  const unpadded =
    HEADER_BYTES +
    BOX_OVERHEAD +
    32 +
    2 +
    1 +
    utf8Encode(endpoint).length +
    1 +
    utf8Encode(namedEndpoint).length +
    1;
  return maxPadding(unpadded) >= FRAME_OFFER_BYTES;
}

/** AUTH_ACK, boxed under the peer context. */
export function encodeAuthAck(peer: CryptoContext, f: Omit<AuthAckFrame, 'type'>): Uint8Array {
  if (f.sessionKey.length !== PUBLIC_KEY_BYTES)
    throw new SharedError('INVALID_KEY', 'a session key is 32 bytes');
  const endpoint = utf8Encode(f.endpoint);
  const named = utf8Encode(f.namedEndpoint);
  if (endpoint.includes(0) || named.includes(0))
    throw new SharedError('FRAME_MALFORMED', 'endpoints cannot contain NUL');
  const fields = new Uint8Array(32 + 2 + 1 + endpoint.length + 1 + named.length + 1);
  fields.set(f.sessionKey, 0);
  fields[32] = f.maxConnections >> 8;
  fields[33] = f.maxConnections & 0xff;
  fields[34] = f.nameAccess & 0xff;
  fields.set(endpoint, 35);
  fields.set(named, 36 + endpoint.length);
  return boxedFrame(peer, 'AUTH', true, new Uint8Array(0), fields, offerOf(f));
}

/** ATTACH, boxed under the peer context. */
export function encodeAttach(peer: CryptoContext, f: Omit<AttachFrame, 'type'>): Uint8Array {
  checkKeyAndSignature(f.sessionKey, f.signature);
  const fields = new Uint8Array(32 + 64);
  fields.set(f.sessionKey, 0);
  fields.set(f.signature, 32);
  return boxedFrame(peer, 'ATTACH', false, f.deviceId.bytes, fields);
}

/** ATTACH_ACK, PING, PING_ACK, DISCONNECT, DISCONNECT_ACK: header then clear random padding. */
export function encodeEmpty(type: EmptyFrameType): Uint8Array {
  const [kind, ack] = EMPTY_KINDS[type];
  const out = randomBytes(HEADER_BYTES + randomUpTo(maxPadding(HEADER_BYTES)));
  out.set(header(kind, ack, out.length), 0);
  return out;
}

/** CONNECT, boxed under the session context. */
export function encodeConnect(session: CryptoContext, f: Omit<ConnectFrame, 'type'>): Uint8Array {
  if (f.address.length !== 4 && f.address.length !== 16)
    throw new SharedError('FRAME_MALFORMED', 'an address is 4 or 16 bytes');
  const fields = new Uint8Array(2 + 1 + 16);
  fields[0] = f.port >> 8;
  fields[1] = f.port & 0xff;
  fields[2] = f.address.length;
  fields.set(f.address, 3);
  return boxedFrame(
    session,
    'CONNECT',
    false,
    new Uint8Array(0),
    fields,
    f.tls ? TLS_STREAM_MARKER : undefined,
  );
}

/** CONNECT_ACK: one clear random byte whose bit 0 is the success flag, then clear padding. */
export function encodeConnectAck(success: boolean): Uint8Array {
  const out = randomBytes(HEADER_BYTES + 1 + randomUpTo(maxPadding(HEADER_BYTES + 1)));
  out.set(header('CONNECT', true, out.length), 0);
  out[HEADER_BYTES] = (randomByte() & 0xfe) | (success ? 1 : 0);
  return out;
}

/** DATA, boxed under the session context, no padding (the hot path: one allocation). */
export function encodeData(session: CryptoContext, data: Uint8Array): Uint8Array {
  if (data.length > MAX_DATA_BYTES)
    throw new SharedError('FRAME_TOO_LARGE', `DATA carries at most ${MAX_DATA_BYTES} bytes`);
  return session.encryptAfter(
    header('DATA', false, HEADER_BYTES + BOX_OVERHEAD + data.length),
    data,
  );
}

/** Bytes of the DATA frames carrying `length` bytes in payloads of at most `chunkBytes`. */
export function dataFramesBytes(length: number, chunkBytes: number = DATA_CHUNK_BYTES): number {
  return length + Math.ceil(length / chunkBytes) * (HEADER_BYTES + BOX_OVERHEAD);
}

/**
 * `data` as consecutive DATA frames of at most `chunkBytes` payload each, written into `out` from
 * offset 0 (room for dataFramesBytes); returns the bytes written. One buffer, one socket write.
 */
export function encodeDataFramesInto(
  session: CryptoContext,
  data: Uint8Array,
  chunkBytes: number,
  out: Uint8Array,
): number {
  if (!(chunkBytes >= 1 && chunkBytes <= MAX_DATA_BYTES))
    throw new SharedError('FRAME_TOO_LARGE', `DATA carries at most ${MAX_DATA_BYTES} bytes`);
  if (out.length < dataFramesBytes(data.length, chunkBytes))
    throw new SharedError('FRAME_TOO_LARGE', 'output buffer too small for the DATA frames');
  let at = 0;
  for (let from = 0; from < data.length; from += chunkBytes) {
    const piece = data.subarray(from, Math.min(data.length, from + chunkBytes));
    const size = HEADER_BYTES + BOX_OVERHEAD + piece.length;
    out[at] = size >> 8;
    out[at + 1] = size & 0xff;
    out[at + 2] = randomTypeByte('DATA', false);
    at += HEADER_BYTES + session.encryptInto(out, at + HEADER_BYTES, piece);
  }
  return at;
}

/** `data` as consecutive DATA frames of at most `chunkBytes` payload each, in one new buffer. */
export function encodeDataFrames(
  session: CryptoContext,
  data: Uint8Array,
  chunkBytes: number = DATA_CHUNK_BYTES,
): Uint8Array {
  const out = new Uint8Array(dataFramesBytes(data.length, chunkBytes));
  encodeDataFramesInto(session, data, chunkBytes, out);
  return out;
}

/** ERROR, boxed under the session context (or the peer context before a session exists). */
export function encodeError(ctx: CryptoContext, f: Omit<ErrorFrame, 'type'>): Uint8Array {
  // Keep the message short enough that the frame always fits.
  const message = utf8Encode(f.message.slice(0, 512).replace(/\0/g, ' '));
  const fields = new Uint8Array(2 + message.length + 1);
  fields[0] = f.code >> 8;
  fields[1] = f.code & 0xff;
  fields.set(message, 2);
  return boxedFrame(ctx, 'ERROR', false, new Uint8Array(0), fields);
}
