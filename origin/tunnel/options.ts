/** TunnelServer options: one object, documented defaults, declared once (shared/options.ts), unknown keys refused. */
import type { Id } from '../../shared/id.ts';
import { KeyPair } from '../../shared/keys.ts';
import {
  DEFAULT_LARGE_POOL,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_PORT,
  MAX_CONNECTIONS_CAP,
  MAX_LARGE_POOL,
} from '../../shared/tunnel/limits.ts';
import { TunnelError } from './errors.ts';
import { type Logger, silentLogger } from '../../shared/logger.ts';
import {
  boolean,
  type Checked,
  checkOptions,
  fn,
  instance,
  integer,
  object,
  optional,
  type Rules,
  string,
  withDefault,
} from '../../shared/options.ts';

export type { Logger };

export interface Clock {
  /** Milliseconds, monotonic enough for timeouts. */
  now(): number;
}

export interface PublicEndpoint {
  /** Where the outside world reaches the node, e.g. `alice.ela.city:443`. */
  endpoint: string;
  /** The node's public name, e.g. `alice.ela.city` (may be empty). */
  namedEndpoint: string;
}

export interface TunnelServerOptions {
  /** The service peer key: AUTH/ATTACH are encrypted to it. Required. */
  key: KeyPair;
  /** Listen address. Default `0.0.0.0`. */
  host?: string;
  /** Listen port. Default 8090; 0 picks a free one. */
  port?: number;
  /** Tunnel connections per session the server grants a stock client in AUTH_ACK. Default 16, at most 64. */
  maxConnections?: number;
  /**
   * Tunnel connections per session granted to a client that asks for a large pool (a pc2 extension,
   * shared/tunnel/frame-offer.ts): as many requests of one node in flight at once. Default 1024, at
   * most 65,535; at or below maxConnections turns the extension off (every client gets maxConnections).
   */
  largePoolConnections?: number;
  /** Global limit of sessions. Default 10,000. */
  maxSessions?: number;
  /** Global limit of TCP connections (handshaking or attached). Default 100,000. */
  maxSockets?: number;
  /** openStream calls that may wait for an idle connection, per session. Default 4096. */
  maxQueuedStreams?: number;
  /** May this device (acting for this user) attach? Default: everyone. */
  accessPolicy?: (deviceId: Id, userId: Id) => boolean | Promise<boolean>;
  /** The public name AUTH_ACK announces. Default: empty endpoints. */
  endpointFor?: (deviceId: Id, userId: Id) => PublicEndpoint | Promise<PublicEndpoint>;
  /** Challenge to AUTH/ATTACH_ACK. Default 10,000 ms. */
  handshakeTimeoutMs?: number;
  /** A stream with no bytes either way for this long is aborted. Default 900,000 ms (15 min); 0 = never. */
  idleTimeoutMs?: number;
  /** The clients' ping interval; a connection silent for 3 intervals is dead. Default 60,000 ms. */
  pingIntervalMs?: number;
  /** How long openStream waits for an idle connection. Default 30,000 ms. */
  streamQueueTimeoutMs?: number;
  /** How long openStream waits for CONNECT_ACK. Default 10,000 ms. */
  connectTimeoutMs?: number;
  /**
   * Answer a client's large-frame offer (shared/tunnel/frame-offer.ts) so both sides send DATA of up
   * to 65,492 bytes; stock clients never see it. Default true; false behaves exactly like a stock server.
   */
  largeFrames?: boolean;
  clock?: Clock;
  logger?: Logger;
}

export { silentLogger } from '../../shared/logger.ts';
export const systemClock: Clock = { now: () => performance.now() };

const timeoutMs = (fallback: number, min = 1) => withDefault(integer(min, 86_400_000), fallback);

const SERVER_OPTIONS = {
  key: instance(KeyPair),
  host: withDefault(string, '0.0.0.0'),
  port: withDefault(integer(0, 65535), DEFAULT_PORT),
  maxConnections: withDefault(integer(1, MAX_CONNECTIONS_CAP), DEFAULT_MAX_CONNECTIONS),
  largePoolConnections: withDefault(integer(0, MAX_LARGE_POOL), DEFAULT_LARGE_POOL),
  maxSessions: withDefault(integer(1, 10_000_000), 10_000),
  maxSockets: withDefault(integer(1, 10_000_000), 100_000),
  maxQueuedStreams: withDefault(integer(0, 1_000_000), 4096),
  accessPolicy: optional(fn<NonNullable<TunnelServerOptions['accessPolicy']>>()),
  endpointFor: optional(fn<NonNullable<TunnelServerOptions['endpointFor']>>()),
  handshakeTimeoutMs: timeoutMs(10_000),
  idleTimeoutMs: timeoutMs(900_000, 0),
  pingIntervalMs: timeoutMs(60_000),
  streamQueueTimeoutMs: timeoutMs(30_000),
  connectTimeoutMs: timeoutMs(10_000),
  largeFrames: withDefault(boolean, true),
  clock: withDefault(object<Clock>(), systemClock),
  logger: withDefault(object<Logger>(), silentLogger),
} satisfies Rules<TunnelServerOptions>;

export type ResolvedServerOptions = Checked<typeof SERVER_OPTIONS>;

export function resolveServerOptions(options: TunnelServerOptions): ResolvedServerOptions {
  return checkOptions(
    options,
    SERVER_OPTIONS,
    'TunnelServer options',
    (message) => new TunnelError('INVALID_OPTIONS', message),
  );
}
