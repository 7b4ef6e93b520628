/** Sizes and limits of the Active Proxy 3.0 wire. */
import { MAC_BYTES, NONCE_BYTES } from '../crypto/box.ts';

export const PROTOCOL_VERSION = 1;
/** Frame header: size u16 (whole frame, header included) || type byte. */
export const HEADER_BYTES = 3;
export const MAX_FRAME_BYTES = 65535;
/** nonce || MAC in front of every encrypted secret. */
export const BOX_OVERHEAD = NONCE_BYTES + MAC_BYTES;
/** The largest DATA payload a frame can hold. */
export const MAX_DATA_BYTES = MAX_FRAME_BYTES - HEADER_BYTES - BOX_OVERHEAD;
/** DATA payload size senders use, as the reference client does (0x7FFF - 3 - 24 - 16). */
export const DATA_CHUNK_BYTES = 0x7fff - HEADER_BYTES - BOX_OVERHEAD;
export const CHALLENGE_MIN_BYTES = 32;
export const CHALLENGE_MAX_BYTES = 255;
export const PADDING_QUANTUM = 256;
export const DEFAULT_PORT = 8090;
/** Server-given maximum of tunnel connections per session: default and hard cap. */
export const DEFAULT_MAX_CONNECTIONS = 16;
export const MAX_CONNECTIONS_CAP = 64;
/**
 * pc2 large pools (./frame-offer.ts): the tunnel connections a pc2 server grants, and a pc2 client
 * asks for, by default: one stream per connection, so this many requests of one node in flight at
 * once (enough for a thousand downloads at a time). The most the offer's 12 bits can state is the
 * hard cap.
 */
export const DEFAULT_LARGE_POOL = 1024;
export const MAX_LARGE_POOL = 4095;

/** The most padding a frame of `unpaddedBytes` may carry: up to the next multiple of 256, never past the frame limit. */
export function maxPadding(unpaddedBytes: number): number {
  const next = Math.ceil(unpaddedBytes / PADDING_QUANTUM) * PADDING_QUANTUM;
  return Math.max(0, Math.min(next, MAX_FRAME_BYTES) - unpaddedBytes);
}
