/** TunnelServer options: one object, documented defaults, unknown keys refused. */
import type { Id } from '../../shared/id.ts';
import { KeyPair } from '../../shared/keys.ts';
import { DEFAULT_MAX_CONNECTIONS, DEFAULT_PORT, MAX_CONNECTIONS_CAP } from '../../shared/tunnel/limits.ts';
import { TunnelError } from './errors.ts';

import { type Logger, silentLogger } from '../../shared/logger.ts';

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
  /** Proxy connections per session the server grants in AUTH_ACK. Default 16, at most 64. */
  maxConnections?: number;
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

export type ResolvedServerOptions = Required<Omit<TunnelServerOptions, 'accessPolicy' | 'endpointFor'>> &
  Pick<TunnelServerOptions, 'accessPolicy' | 'endpointFor'>;

export { silentLogger } from '../../shared/logger.ts';
export const systemClock: Clock = { now: () => performance.now() };

const DEFAULTS = {
  host: '0.0.0.0',
  port: DEFAULT_PORT,
  maxConnections: DEFAULT_MAX_CONNECTIONS,
  maxSessions: 10_000,
  maxSockets: 100_000,
  maxQueuedStreams: 4096,
  handshakeTimeoutMs: 10_000,
  idleTimeoutMs: 900_000,
  pingIntervalMs: 60_000,
  streamQueueTimeoutMs: 30_000,
  connectTimeoutMs: 10_000,
  largeFrames: true,
};

const KNOWN = new Set([...Object.keys(DEFAULTS), 'key', 'accessPolicy', 'endpointFor', 'clock', 'logger']);

const bad = (message: string) => new TunnelError('INVALID_OPTIONS', message);

function integer(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) throw bad(`${name} must be an integer in ${min}..${max}, got ${value}`);
  return value;
}

export function resolveServerOptions(options: TunnelServerOptions): ResolvedServerOptions {
  if (!options || typeof options !== 'object') throw bad('options object required');
  for (const name of Object.keys(options)) if (!KNOWN.has(name)) throw bad(`unknown option ${name}`);
  if (!(options.key instanceof KeyPair)) throw bad('key (the service peer KeyPair) is required');
  const o = { ...DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as ResolvedServerOptions;
  integer('port', o.port, 0, 65535);
  integer('maxConnections', o.maxConnections, 1, MAX_CONNECTIONS_CAP);
  integer('maxSessions', o.maxSessions, 1, 10_000_000);
  integer('maxSockets', o.maxSockets, 1, 10_000_000);
  integer('maxQueuedStreams', o.maxQueuedStreams, 0, 1_000_000);
  for (const name of ['handshakeTimeoutMs', 'pingIntervalMs', 'streamQueueTimeoutMs', 'connectTimeoutMs'] as const) integer(name, o[name], 1, 86_400_000);
  integer('idleTimeoutMs', o.idleTimeoutMs, 0, 86_400_000);
  if (typeof o.host !== 'string') throw bad('host must be a string');
  if (typeof o.largeFrames !== 'boolean') throw bad('largeFrames must be a boolean');
  for (const name of ['accessPolicy', 'endpointFor'] as const) {
    if (o[name] !== undefined && typeof o[name] !== 'function') throw bad(`${name} must be a function`);
  }
  o.clock ??= systemClock;
  o.logger ??= silentLogger;
  return o;
}
