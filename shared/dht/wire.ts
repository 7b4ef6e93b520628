/**
 * Wire objects: plain objects that mirror the CBOR maps of Boson 3.0 DHT messages key for key.
 * Ids and other binaries are Uint8Array; integers are number, or bigint past 2^53 (exact 64-bit).
 */

export type WireInt = number | bigint;

/** NodeInfo on the wire: `[id, ip (4 or 16 raw bytes), port]`. */
export type WireNodeInfo = [id: Uint8Array, ip: Uint8Array, port: number];

/** The value fields shared by STORE_VALUE requests and FIND_VALUE responses (section 5). */
export interface WireValueFields {
  k?: Uint8Array;
  rec?: Uint8Array;
  n?: Uint8Array;
  seq?: number;
  sig?: Uint8Array;
  v?: Uint8Array;
}

/** A PeerInfo map as carried in a FIND_PEER response's `p` list. */
export interface WirePeerInfo {
  id: Uint8Array;
  n: Uint8Array;
  seq?: number;
  o?: Uint8Array;
  os?: Uint8Array;
  sig: Uint8Array;
  f: WireInt;
  e: string;
  ex?: Uint8Array;
}

/** Request body `q`: the keys of every method (which ones are present depends on `y`). */
export interface WireRequestBody extends WireValueFields {
  /** FIND_*: target id. */
  t?: Uint8Array;
  /** FIND_*: want bits. */
  w?: number;
  /** STORE_VALUE / ANNOUNCE_PEER: write token. */
  tok?: number;
  cas?: number;
  /** FIND_PEER: expected count. ANNOUNCE_PEER: endpoint (a string). */
  e?: number | string;
  o?: Uint8Array;
  os?: Uint8Array;
  f?: WireInt;
  ex?: Uint8Array;
}

/** Response body `r`. */
export interface WireResponseBody extends WireValueFields {
  n4?: WireNodeInfo[];
  n6?: WireNodeInfo[];
  tok?: number;
  p?: WirePeerInfo[];
}

export interface WireErrorBody {
  c: number;
  m?: string;
}

export interface WireMessage {
  y: number;
  t: WireInt;
  q?: WireRequestBody;
  r?: WireResponseBody;
  e?: WireErrorBody;
  /** Omitted when 0. */
  v?: number;
}
