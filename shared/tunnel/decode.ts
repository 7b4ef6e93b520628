/**
 * Decoders of the Active Proxy 3.0 frames. Never throw: malformed, oversized, over-padded or forged
 * frames are error values the connection drops (and counts).
 */
import { utf8Decode } from '../bytes.ts';
import { NONCE_BYTES } from '../crypto/box.ts';
import type { CryptoContext } from '../crypto/context.ts';
import { err, ok, type Result, SharedError } from '../errors.ts';
import { Id } from '../id.ts';
import { type FrameOffer, parseFrameOffer } from './frame-offer.ts';
import type { SplitFrame } from './frame-reader.ts';
import { isTlsStreamPadding, OFFER_TLS_STREAMS } from './tls-streams.ts';
import { parseTypeByte } from './frame-type.ts';
import type { Frame } from './frames.ts';
import {
  BOX_OVERHEAD,
  CHALLENGE_MAX_BYTES,
  CHALLENGE_MIN_BYTES,
  HEADER_BYTES,
  maxPadding,
} from './limits.ts';

/** The contexts a receiver has: the session context, its peer context, or a way to make one per device. */
export interface FrameKeys {
  session?: CryptoContext;
  peer?: CryptoContext;
  /** Server side: the peer context for the device id named in AUTH/ATTACH (null when not a valid key). */
  peerFor?: (deviceId: Id) => CryptoContext | null;
  /**
   * The caller owns the frame's bytes (a frame just read from a socket): DATA is decrypted where it
   * lies and its `data` is a view into the frame, with no allocation.
   */
  dataInPlace?: boolean;
}

const malformed = (message: string): Result<never> =>
  err(new SharedError('FRAME_MALFORMED', message));

/** The challenge bytes of a challenge frame (`size || bytes`). */
export function decodeChallenge(frame: Uint8Array): Result<Uint8Array> {
  if (frame.length < 2 || ((frame[0] << 8) | frame[1]) !== frame.length)
    return malformed('challenge size mismatch');
  const n = frame.length - 2;
  if (n < CHALLENGE_MIN_BYTES || n > CHALLENGE_MAX_BYTES)
    return malformed(`challenge of ${n} bytes`);
  return ok(frame.slice(2));
}

function open(
  ctx: CryptoContext | undefined | null,
  boxed: Uint8Array,
  what: string,
): Result<Uint8Array> {
  if (!ctx) return malformed(`${what} arrived with no context to open it`);
  return ctx.decrypt(boxed);
}

/** Padding past the next multiple of 256 is refused, so garbage cannot pass as padding. */
function paddingOk(frameBytes: number, unpaddedBytes: number): boolean {
  return frameBytes - unpaddedBytes <= maxPadding(unpaddedBytes);
}

/** NUL-terminated UTF-8 string at `at`: [text, index after the NUL], or null. */
function cString(bytes: Uint8Array, at: number): [string, number] | null {
  const end = bytes.indexOf(0, at);
  if (end < 0) return null;
  try {
    return [utf8Decode(bytes.subarray(at, end)), end + 1];
  } catch {
    return null;
  }
}

/** Decodes one whole frame (size prefix included). */
export function decodeFrame(frame: Uint8Array, keys: FrameKeys): Result<Frame> {
  if (frame.length < HEADER_BYTES) return malformed('frame shorter than its header');
  if (((frame[0] << 8) | frame[1]) !== frame.length) return malformed('frame size mismatch');
  const type = parseTypeByte(frame[2]);
  if (!type) return malformed(`unknown type byte 0x${frame[2].toString(16)}`);
  const body = frame.subarray(HEADER_BYTES);
  switch (type.kind) {
    case 'AUTH':
      return type.ack ? decodeAuthAck(frame, body, keys) : decodeAuth(frame, body, keys);
    case 'ATTACH':
      return type.ack ? decodeEmpty(frame, 'ATTACH_ACK') : decodeAttach(frame, body, keys);
    case 'PING':
      return decodeEmpty(frame, type.ack ? 'PING_ACK' : 'PING');
    case 'DISCONNECT':
      return decodeEmpty(frame, type.ack ? 'DISCONNECT_ACK' : 'DISCONNECT');
    case 'CONNECT':
      return type.ack ? decodeConnectAck(frame) : decodeConnect(frame, body, keys);
    case 'DATA': {
      if (keys.dataInPlace && keys.session) {
        const inPlace = keys.session.decryptInPlace(body);
        return inPlace.ok ? ok({ type: 'DATA', data: inPlace.value }) : inPlace;
      }
      const plain = open(keys.session, body, 'DATA');
      return plain.ok ? ok({ type: 'DATA', data: plain.value }) : plain;
    }
    case 'ERROR':
      return decodeError(frame, body, keys);
  }
}

function decodeEmpty(
  frame: Uint8Array,
  type: 'ATTACH_ACK' | 'PING' | 'PING_ACK' | 'DISCONNECT' | 'DISCONNECT_ACK',
): Result<Frame> {
  return paddingOk(frame.length, HEADER_BYTES) ? ok({ type }) : malformed(`${type} over-padded`);
}

function deviceBox(
  frame: Uint8Array,
  body: Uint8Array,
  keys: FrameKeys,
  what: string,
): Result<{ deviceId: Id; plain: Uint8Array }> {
  if (body.length < 32 + BOX_OVERHEAD) return malformed(`${what} too short`);
  const deviceId = new Id(body.subarray(0, 32));
  const ctx = keys.peerFor ? keys.peerFor(deviceId) : keys.peer;
  const plain = open(ctx, body.subarray(32), what);
  return plain.ok ? ok({ deviceId, plain: plain.value }) : plain;
}

/** A frame's pc2 offer fields: none for a stock peer; `pool` only when a large pool was stated. */
function offerFields(offer: FrameOffer | undefined): { maxDataBytes?: number; pool?: number } {
  if (!offer) return {};
  return offer.pool ? offer : { maxDataBytes: offer.maxDataBytes };
}

function decodeAuth(frame: Uint8Array, body: Uint8Array, keys: FrameKeys): Result<Frame> {
  const r = deviceBox(frame, body, keys, 'AUTH');
  if (!r.ok) return r;
  const p = r.value.plain;
  const fixed = 2 + 32 + 32 + 1 + 64;
  if (p.length < fixed) return malformed('AUTH secret too short');
  if (!paddingOk(frame.length, HEADER_BYTES + 32 + BOX_OVERHEAD + fixed))
    return malformed('AUTH over-padded');
  const offer = parseFrameOffer(p.subarray(fixed));
  return ok({
    type: 'AUTH',
    deviceId: r.value.deviceId,
    version: (p[0] << 8) | p[1],
    userId: new Id(p.subarray(2, 34)),
    sessionKey: p.slice(34, 66),
    nameAccess: p[66],
    signature: p.slice(67, 131),
    ...offerFields(offer),
    ...(offer && offer.flags & OFFER_TLS_STREAMS ? { tlsStreams: true } : {}),
  });
}

function decodeAttach(frame: Uint8Array, body: Uint8Array, keys: FrameKeys): Result<Frame> {
  const r = deviceBox(frame, body, keys, 'ATTACH');
  if (!r.ok) return r;
  const p = r.value.plain;
  if (p.length < 96) return malformed('ATTACH secret too short');
  if (!paddingOk(frame.length, HEADER_BYTES + 32 + BOX_OVERHEAD + 96))
    return malformed('ATTACH over-padded');
  return ok({
    type: 'ATTACH',
    deviceId: r.value.deviceId,
    sessionKey: p.slice(0, 32),
    signature: p.slice(32, 96),
  });
}

function decodeAuthAck(frame: Uint8Array, body: Uint8Array, keys: FrameKeys): Result<Frame> {
  const plain = open(keys.peer, body, 'AUTH_ACK');
  if (!plain.ok) return plain;
  const p = plain.value;
  if (p.length < 37) return malformed('AUTH_ACK secret too short');
  const endpoint = cString(p, 35);
  const named = endpoint && cString(p, endpoint[1]);
  if (!endpoint || !named) return malformed('AUTH_ACK endpoints are not NUL-terminated UTF-8');
  if (!paddingOk(frame.length, HEADER_BYTES + BOX_OVERHEAD + named[1]))
    return malformed('AUTH_ACK over-padded');
  const offer = parseFrameOffer(p.subarray(named[1]));
  return ok({
    type: 'AUTH_ACK',
    sessionKey: p.slice(0, 32),
    maxConnections: (p[32] << 8) | p[33],
    nameAccess: p[34],
    endpoint: endpoint[0],
    namedEndpoint: named[0],
    ...offerFields(offer),
  });
}

function decodeConnect(frame: Uint8Array, body: Uint8Array, keys: FrameKeys): Result<Frame> {
  const plain = open(keys.session, body, 'CONNECT');
  if (!plain.ok) return plain;
  const p = plain.value;
  if (p.length < 19) return malformed('CONNECT secret too short');
  const length = p[2];
  if (length !== 4 && length !== 16) return malformed(`CONNECT address length ${length}`);
  if (!paddingOk(frame.length, HEADER_BYTES + BOX_OVERHEAD + 19))
    return malformed('CONNECT over-padded');
  return ok({
    type: 'CONNECT',
    port: (p[0] << 8) | p[1],
    address: p.slice(3, 3 + length),
    ...(isTlsStreamPadding(p.subarray(19)) ? { tls: true } : {}),
  });
}

function decodeConnectAck(frame: Uint8Array): Result<Frame> {
  if (frame.length < HEADER_BYTES + 1) return malformed('CONNECT_ACK without its status byte');
  if (!paddingOk(frame.length, HEADER_BYTES + 1)) return malformed('CONNECT_ACK over-padded');
  return ok({ type: 'CONNECT_ACK', success: (frame[HEADER_BYTES] & 1) === 1 });
}

function decodeError(frame: Uint8Array, body: Uint8Array, keys: FrameKeys): Result<Frame> {
  const plain = open(keys.session ?? keys.peer, body, 'ERROR');
  if (!plain.ok) return plain;
  const p = plain.value;
  if (p.length < 3) return malformed('ERROR secret too short');
  const message = cString(p, 2);
  if (!message) return malformed('ERROR message is not NUL-terminated UTF-8');
  if (!paddingOk(frame.length, HEADER_BYTES + BOX_OVERHEAD + message[1]))
    return malformed('ERROR over-padded');
  return ok({ type: 'ERROR', code: (p[0] << 8) | p[1], message: message[0] });
}

/** Header, nonce and MAC of a split DATA frame, gathered here (one reader at a time per process). */
const splitHead = new Uint8Array(HEADER_BYTES + BOX_OVERHEAD);

/**
 * The payload of a DATA frame that arrived in pieces (FrameReader.pushKeepingSplitData), decrypted
 * where it lies: the plaintext pieces, in order (views into the frame's pieces; empty ones left out).
 */
export function decodeSplitData(frame: SplitFrame, session: CryptoContext): Result<Uint8Array[]> {
  if (frame.length < splitHead.length) return malformed('DATA frame too short');
  let filled = 0;
  const cipher: Uint8Array[] = [];
  let total = 0;
  for (const piece of frame.pieces) {
    total += piece.length;
    let rest = piece;
    if (filled < splitHead.length) {
      const take = Math.min(splitHead.length - filled, rest.length);
      splitHead.set(rest.subarray(0, take), filled);
      filled += take;
      rest = rest.subarray(take);
    }
    if (rest.length > 0) cipher.push(rest);
  }
  if (total !== frame.length || ((splitHead[0] << 8) | splitHead[1]) !== frame.length)
    return malformed('frame size mismatch');
  const type = parseTypeByte(splitHead[2]);
  if (type?.kind !== 'DATA') return malformed('split frame is not DATA');
  const opened = session.decryptPiecesInPlace(
    splitHead.subarray(HEADER_BYTES, HEADER_BYTES + NONCE_BYTES),
    splitHead.subarray(HEADER_BYTES + NONCE_BYTES),
    cipher,
  );
  return opened.ok ? ok(cipher) : opened;
}
