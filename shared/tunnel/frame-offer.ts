/**
 * pc2-to-pc2 extensions of Active Proxy 3.0, negotiated so that a stock peer only ever sees the stock
 * protocol: large DATA frames and large tunnel connection pools.
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
 * marker, the largest DATA payload the sender accepts (u16), then the large pool (u16; 0 = none,
 * which is what pc2 peers before the extension sent in these then-reserved bytes):
 *   client AUTH     [... || "pc2/frames/1" || maxData u16 || pool u16 (connections it asks for) || random padding]
 *   server AUTH_ACK [... || "pc2/frames/1" || maxData u16 || pool u16 (connections granted)     || random padding]
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
}

/** The offer bytes for "I accept DATA payloads of up to `maxDataBytes`" (and, with `pool`, a large pool). */
export function encodeFrameOffer(maxDataBytes: number, pool = 0): Uint8Array {
  const out = new Uint8Array(FRAME_OFFER_BYTES);
  out.set(MARKER, 0);
  out[MARKER.length] = maxDataBytes >> 8;
  out[MARKER.length + 1] = maxDataBytes & 0xff;
  out[MARKER.length + 2] = pool >> 8;
  out[MARKER.length + 3] = pool & 0xff;
  return out;
}

/** What the peer declared at the start of `padding`, or undefined when it declared nothing. */
export function parseFrameOffer(padding: Uint8Array): FrameOffer | undefined {
  if (padding.length < FRAME_OFFER_BYTES) return undefined;
  for (let i = 0; i < MARKER.length; i++) if (padding[i] !== MARKER[i]) return undefined;
  const at = MARKER.length;
  return {
    maxDataBytes: (padding[at] << 8) | padding[at + 1],
    pool: (padding[at + 2] << 8) | padding[at + 3],
  };
}

/** The DATA payload size to send to a peer that declared `peerMaxDataBytes` (undefined: a stock peer). */
export function dataChunkBytesFor(peerMaxDataBytes: number | undefined): number {
  if (peerMaxDataBytes === undefined) return DATA_CHUNK_BYTES;
  return Math.max(DATA_CHUNK_BYTES, Math.min(MAX_DATA_BYTES, peerMaxDataBytes));
}
