/** The Active Proxy 3.0 frames as typed values. Field order is the order on the wire. */
import type { Id } from '../id.ts';

/** client -> server, first connection of a session. */
export interface AuthFrame {
  type: 'AUTH';
  deviceId: Id;
  version: number;
  userId: Id;
  /** Client session X25519 public key. */
  sessionKey: Uint8Array;
  nameAccess: number;
  /** Device signature over this connection's challenge. */
  signature: Uint8Array;
  /** pc2 extension (./frame-offer.ts): the largest DATA payload the client accepts; absent from stock clients. */
  maxDataBytes?: number;
  /** pc2 extension (./tls-streams.ts): the client takes raw TLS streams; absent from stock clients. */
  tlsStreams?: boolean;
  /** pc2 extension (./frame-offer.ts): tunnel connections the client asks for; absent or 0: stock limits. */
  pool?: number;
}

/** server -> client. */
export interface AuthAckFrame {
  type: 'AUTH_ACK';
  /** Server session X25519 public key. */
  sessionKey: Uint8Array;
  maxConnections: number;
  nameAccess: number;
  endpoint: string;
  namedEndpoint: string;
  /** pc2 extension (./frame-offer.ts): the largest DATA payload the server accepts; absent from stock servers. */
  maxDataBytes?: number;
  /** pc2 extension (./frame-offer.ts): the large pool granted (also in maxConnections); absent or 0: none. */
  pool?: number;
}

/** client -> server, each further connection of a session. */
export interface AttachFrame {
  type: 'ATTACH';
  deviceId: Id;
  sessionKey: Uint8Array;
  signature: Uint8Array;
}

export type EmptyFrameType = 'ATTACH_ACK' | 'PING' | 'PING_ACK' | 'DISCONNECT' | 'DISCONNECT_ACK';

export interface EmptyFrame {
  type: EmptyFrameType;
}

/** server -> client: open the upstream for the external peer at address:port. */
export interface ConnectFrame {
  type: 'CONNECT';
  /** Raw 4 (IPv4) or 16 (IPv6) address bytes. */
  address: Uint8Array;
  port: number;
  /** pc2 extension (./tls-streams.ts): a raw TLS stream, for the node's TLS terminator. */
  tls?: boolean;
}

export interface ConnectAckFrame {
  type: 'CONNECT_ACK';
  success: boolean;
}

export interface DataFrame {
  type: 'DATA';
  data: Uint8Array;
}

export interface ErrorFrame {
  type: 'ERROR';
  code: number;
  message: string;
}

export type Frame =
  | AuthFrame
  | AuthAckFrame
  | AttachFrame
  | EmptyFrame
  | ConnectFrame
  | ConnectAckFrame
  | DataFrame
  | ErrorFrame;
export type FrameType = Frame['type'];
