/**
 * Raw TLS streams (pc2 extension): a stream whose bytes are a visitor's TLS connection to a node
 * that terminates TLS itself (a private name). The node agent must hand such a stream to its own TLS
 * terminator, never to the plain upstream, and must be able to tell the two apart from the tunnel
 * alone; a stock peer must see the stock protocol only.
 *
 * - The client declares that it takes raw TLS streams in AUTH, with flag bit 0 of the large-frame
 *   offer (./frame-offer.ts: `"pc2/frames/1" || maxData u16 || flags 4 bits, pool 12 bits`).
 *   A client that does not take large frames still sends the offer then, with maxData at the stock
 *   size. A stock server reads all of it as random padding.
 * - The server opens a raw TLS stream with a CONNECT whose encrypted padding starts with
 *   `"pc2/tls/1"`, and only on a session whose client declared the flag: a stock client never gets
 *   one, so it never takes TLS bytes for a plain request. Like the offer, the marker is inside the box
 *   (authenticated, invisible on the wire); random padding starting with it by chance has probability
 *   2^-72.
 */
import { utf8Encode } from '../bytes.ts';

/** Offer flag: the client takes raw TLS streams. */
export const OFFER_TLS_STREAMS = 0x01;

/** The start of a raw TLS stream's CONNECT padding. */
export const TLS_STREAM_MARKER = utf8Encode('pc2/tls/1');

/** Whether `padding` (a CONNECT's, after its fields) starts with the raw TLS stream marker. */
export function isTlsStreamPadding(padding: Uint8Array): boolean {
  if (padding.length < TLS_STREAM_MARKER.length) return false;
  for (let i = 0; i < TLS_STREAM_MARKER.length; i++)
    if (padding[i] !== TLS_STREAM_MARKER[i]) return false;
  return true;
}
