/** TunnelClient options: one object, documented defaults, declared once (shared/options.ts), unknown keys refused. */
import type { Socket } from 'node:net';
import type { EventEmitter } from 'node:events';
import { Id } from '../../shared/id.ts';
import { KeyPair } from '../../shared/keys.ts';
import { DEFAULT_LARGE_POOL, MAX_LARGE_POOL } from '../../shared/tunnel/limits.ts';
import { BACKOFF_OPTIONS, type BackoffOptions } from './backoff.ts';
import { AgentError } from '../errors.ts';
import { type Logger as ClientLogger, silentLogger } from '../../shared/logger.ts';
import {
  atLeast,
  boolean,
  type Checked,
  checkOptions,
  fn,
  instance,
  integer,
  nested,
  nonEmptyString,
  object,
  optional,
  type Rules,
  string,
  withDefault,
} from '../../shared/options.ts';

export type { ClientLogger };

/**
 * What a CONNECT is carried to: a socket, or a stream of the node's entry in this process. Events:
 * `end` (its side is done), `close`, `error`, `drain` (after a write returned false).
 */
export interface Upstream extends EventEmitter {
  write(data: Uint8Array): boolean;
  end(callback?: () => void): unknown;
  destroy(): unknown;
  pause(): unknown;
  resume(): unknown;
  readonly destroyed: boolean;
}

export interface TunnelClientOptions {
  /** The super node's Active Proxy host and port (default port 8090). */
  serverHost: string;
  serverPort?: number;
  /** The server's service peer id (its key): AUTH is encrypted to it. */
  servicePeerId: Id;
  /** This node's device key: signs the challenges. */
  deviceKey: KeyPair;
  /** The user this device acts for. Default: the device key. */
  userKey?: KeyPair;
  /** Where plain CONNECTs are dialed, e.g. the PC2 app on 127.0.0.1:4200 (unless openUpstream). */
  upstream?: { host: string; port: number };
  /**
   * Where raw TLS streams go (a private name's visitors, shared/tunnel/tls-streams.ts): the node's own
   * TLS terminator. Given, the client declares in AUTH that it takes them. Default none.
   */
  tlsUpstream?: { host: string; port: number };
  /** Refuse plain streams (CONNECT_ACK failure): a private name's plaintext never crosses a relay. Default false. */
  tlsOnly?: boolean;
  /** Ask the server for name access (nameAccess = 1 in AUTH). Default true. */
  nameAccess?: boolean;
  backoff?: BackoffOptions;
  /** An idle connection pings after this much silence (minus jitter); 3x silent = dead. Default 60,000 ms. */
  pingIntervalMs?: number;
  /** Random 0..this subtracted from each ping delay. Default 10,000 ms (capped to half the interval). */
  pingJitterMs?: number;
  /** Idle connections beyond the spare one close after this long. Default 300,000 ms. */
  idleTrimMs?: number;
  /** Connect + challenge + AUTH_ACK/ATTACH_ACK. Default 10,000 ms. */
  handshakeTimeoutMs?: number;
  /** After the server's DISCONNECT, how long the upstream may keep sending before it is cut. Default 30,000 ms. */
  disconnectGraceMs?: number;
  /** Opens the TCP connection to the server (tests inject relays). Default node:net connect. */
  createSocket?: (host: string, port: number) => Socket;
  /**
   * Opens a plain CONNECT's upstream inside this process instead of dialing `upstream` (the node's
   * entry: no loopback socket between it and the tunnel); it hands its bytes to `onData`, which
   * returns false when the tunnel is full. TLS streams still dial tlsUpstream.
   */
  openUpstream?: (onData: (bytes: Uint8Array) => boolean) => Upstream;
  /**
   * Offer large DATA frames in AUTH (shared/tunnel/frame-offer.ts): used only if the server accepts,
   * stock servers never see a difference. Default true; false behaves exactly like a stock client.
   */
  largeFrames?: boolean;
  /**
   * Tunnel connections to ask for (a pc2 extension, shared/tunnel/frame-offer.ts): a pc2 server grants
   * up to its own large-pool limit, a stock one ignores the ask. One stream per connection, so this
   * many requests in flight at once. Default 1024; 0 asks for nothing (stock limits, at most 64).
   */
  largePoolConnections?: number;
  random?: () => number;
  logger?: ClientLogger;
}

const ms = (fallback: number, min = 1) => withDefault(atLeast(min), fallback);

const CLIENT_OPTIONS = {
  serverHost: nonEmptyString,
  serverPort: withDefault(integer(1, 65535), 8090),
  servicePeerId: instance(Id),
  deviceKey: instance(KeyPair),
  userKey: optional(instance(KeyPair)),
  upstream: optional(nested({ host: string, port: integer(0, 65535) })),
  tlsUpstream: optional(nested({ host: string, port: integer(0, 65535) })),
  tlsOnly: withDefault(boolean, false),
  nameAccess: withDefault(boolean, true),
  backoff: nested(BACKOFF_OPTIONS),
  pingIntervalMs: ms(60_000),
  pingJitterMs: ms(10_000, 0),
  idleTrimMs: ms(300_000),
  handshakeTimeoutMs: ms(10_000),
  disconnectGraceMs: ms(30_000),
  createSocket: optional(fn<(host: string, port: number) => Socket>()),
  openUpstream: optional(fn<(onData: (bytes: Uint8Array) => boolean) => Upstream>()),
  largeFrames: withDefault(boolean, true),
  largePoolConnections: withDefault(integer(0, MAX_LARGE_POOL), DEFAULT_LARGE_POOL),
  random: withDefault(fn<() => number>(), Math.random),
  logger: withDefault(object<ClientLogger>(), silentLogger),
} satisfies Rules<TunnelClientOptions>;

export type ResolvedClientOptions = Omit<Checked<typeof CLIENT_OPTIONS>, 'userKey'> & {
  userKey: KeyPair;
};

export function resolveClientOptions(options: TunnelClientOptions): ResolvedClientOptions {
  const o = checkOptions(
    options,
    CLIENT_OPTIONS,
    'TunnelClient options',
    (message) => new AgentError('INVALID_OPTIONS', message),
  );
  // Plain streams need somewhere to go, unless the client takes none (a private name's).
  if (!o.upstream && !o.openUpstream && !o.tlsOnly)
    throw new AgentError(
      'INVALID_OPTIONS',
      'TunnelClient options: upstream (or openUpstream) is required',
    );
  // The jitter never eats more than half the interval.
  return {
    ...o,
    userKey: o.userKey ?? o.deviceKey,
    pingJitterMs: Math.min(o.pingJitterMs, o.pingIntervalMs / 2),
  };
}
