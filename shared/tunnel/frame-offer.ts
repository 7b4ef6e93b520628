/**
 * pc2-to-pc2 extensions of Active Proxy 3.0, negotiated so that a stock peer only ever sees the stock
 * protocol: large DATA frames, large tunnel connection pools, and the flags of others (raw TLS
 * streams, ./tls-streams.ts).
 *
 * - Large frames: the reference client sends DATA payloads of at most 32,724 bytes
 *   (DATA_CHUNK_BYTES), and a stock peer may rely on that, so a sender never goes past it unless the
 *   receiver has said it takes more.
 * - Large pools: a stock server grants at most 64 tunnel connections per session (MAX_CONNECTIONS_CAP;
 *   16 by default), one stream each, which caps a node at 64 requests in flight. A pc2 client states
 *   how many it is ready to open; a pc2 server then grants up to its own large-pool limit in the
 *   stock AUTH_ACK field `maxConnections` (a u16), which a client that did not ask never sees above
 *   the stock cap.
 *
 * The statements travel in the only room AUTH and AUTH_ACK have for them: the start of their
 * padding, which a stock peer fills with random bytes and ignores. The padding is inside the box
 * under the peer context, so the offer is authenticated and invisible on the wire. It is a 12-byte
 * marker, the largest DATA payload the sender accepts (u16), then one u16 holding four flag bits
 * (./tls-streams.ts) above the large pool (12 bits, at most 4,095 connections; 0 = none):
 *   client AUTH     [... || "pc2/frames/1" || maxData u16 || flags 4 bits, pool 12 bits (asked for) || random padding]
 *   server AUTH_ACK [... || "pc2/frames/1" || maxData u16 || flags 4 bits, pool 12 bits (granted)   || random padding]
 * Each side sends DATA of at most what the other side declared; no declaration (a stock peer, or an
 * AUTH_ACK whose padding room is too small for the offer) means DATA_CHUNK_BYTES. Random padding
 * starting with the marker by chance has probability 2^-96.
 */
import { utf8Encode } from '../bytes.ts';
import { DATA_CHUNK_BYTES, MAX_DATA_BYTES } from './limits.ts';

const MARKER = utf8Encode('pc2/frames/1');
export const FRAME_OFFER_BYTES = MARKER.length + 4;

export interface FrameOffer {
  /** The largest DATA payload the sender accepts. */
  maxDataBytes: number;
  /** Large pool: tunnel connections asked for (AUTH) or granted (AUTH_ACK); 0 = stock limits. */
  pool: number;
  /** Extension flags (OFFER_TLS_STREAMS in ./tls-streams.ts). */
  flags: number;
}

/** The largest pool an offer can state. */
export const MAX_OFFER_POOL = 0x0fff;

/**
 * The offer bytes for "I accept DATA payloads of up to `maxDataBytes`" (and, with `pool`, a large
 * pool, capped at MAX_OFFER_POOL; with `flags`, the extensions they name).
 */
export function encodeFrameOffer(maxDataBytes: number, pool = 0, flags = 0): Uint8Array {
  const out = new Uint8Array(FRAME_OFFER_BYTES);
  const word = ((flags & 0x0f) << 12) | Math.min(pool, MAX_OFFER_POOL);
  out.set(MARKER, 0);
  out[MARKER.length] = maxDataBytes >> 8;
  out[MARKER.length + 1] = maxDataBytes & 0xff;
  out[MARKER.length + 2] = word >> 8;
  out[MARKER.length + 3] = word & 0xff;
  return out;
}

/** What the peer declared at the start of `padding`, or undefined when it declared nothing. */
export function parseFrameOffer(padding: Uint8Array): FrameOffer | undefined {
  if (padding.length < FRAME_OFFER_BYTES) return undefined;
  for (let i = 0; i < MARKER.length; i++) if (padding[i] !== MARKER[i]) return undefined;
  const at = MARKER.length;
  const word = (padding[at + 2] << 8) | padding[at + 3];
  return {
    maxDataBytes: (padding[at] << 8) | padding[at + 1],
    pool: word & MAX_OFFER_POOL,
    flags: word >> 12,
  };
}

/** The DATA payload size to send to a peer that declared `peerMaxDataBytes` (undefined: a stock peer). */
export function dataChunkBytesFor(peerMaxDataBytes: number | undefined): number {
  if (peerMaxDataBytes === undefined) return DATA_CHUNK_BYTES;
  return Math.max(DATA_CHUNK_BYTES, Math.min(MAX_DATA_BYTES, peerMaxDataBytes));
}
