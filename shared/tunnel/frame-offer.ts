/**
 * Large DATA frames between pc2 peers, negotiated so that a stock Active Proxy 3.0 peer only ever
 * sees the stock protocol. The reference client sends DATA payloads of at most 32,724 bytes
 * (DATA_CHUNK_BYTES), and a stock peer may rely on that, so a sender never goes past it unless the
 * receiver has said it takes more.
 *
 * The statement travels in the only room AUTH and AUTH_ACK have for it: the start of their padding,
 * which a stock peer fills with random bytes and ignores. The padding is inside the box under the
 * peer context, so the offer is authenticated and invisible on the wire. It is a 12-byte marker and
 * the largest DATA payload the sender accepts (u16), then 2 reserved zero bytes:
 *   client AUTH     [... || "pc2/frames/1" || maxData u16 || 0 0 || random padding]
 *   server AUTH_ACK [... || "pc2/frames/1" || maxData u16 || 0 0 || random padding]
 * Each side sends DATA of at most what the other side declared; no declaration (a stock peer, or an
 * AUTH_ACK whose padding room is too small for the offer) means DATA_CHUNK_BYTES. Random padding
 * starting with the marker by chance has probability 2^-96.
 */
import { utf8Encode } from '../bytes.ts';
import { DATA_CHUNK_BYTES, MAX_DATA_BYTES } from './limits.ts';

const MARKER = utf8Encode('pc2/frames/1');
export const FRAME_OFFER_BYTES = MARKER.length + 4;

/**
 * The offer bytes for "I accept DATA payloads of up to `maxDataBytes`", with `flags` in the first
 * reserved byte (./tls-streams.ts).
 */
export function encodeFrameOffer(maxDataBytes: number, flags = 0): Uint8Array {
  const out = new Uint8Array(FRAME_OFFER_BYTES);
  out.set(MARKER, 0);
  out[MARKER.length] = maxDataBytes >> 8;
  out[MARKER.length + 1] = maxDataBytes & 0xff;
  out[MARKER.length + 2] = flags;
  return out;
}

/** The flags byte of the offer at the start of `padding`; 0 when there is no offer. */
export function parseOfferFlags(padding: Uint8Array): number {
  return parseFrameOffer(padding) === undefined ? 0 : padding[MARKER.length + 2];
}

/** The DATA size the peer declared at the start of `padding`, or undefined when it declared none. */
export function parseFrameOffer(padding: Uint8Array): number | undefined {
  if (padding.length < FRAME_OFFER_BYTES) return undefined;
  for (let i = 0; i < MARKER.length; i++) if (padding[i] !== MARKER[i]) return undefined;
  return (padding[MARKER.length] << 8) | padding[MARKER.length + 1];
}

/** The DATA payload size to send to a peer that declared `peerMaxDataBytes` (undefined: a stock peer). */
export function dataChunkBytesFor(peerMaxDataBytes: number | undefined): number {
  if (peerMaxDataBytes === undefined) return DATA_CHUNK_BYTES;
  return Math.max(DATA_CHUNK_BYTES, Math.min(MAX_DATA_BYTES, peerMaxDataBytes));
}
