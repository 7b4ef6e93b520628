/** TunnelClient options: one object, documented defaults, unknown keys refused. */
import type { Socket } from 'node:net';
import { Id } from '../../shared/id.ts';
import { KeyPair } from '../../shared/keys.ts';
import { BACKOFF_DEFAULTS, type BackoffOptions, type ResolvedBackoff } from './backoff.ts';
import { AgentError } from '../errors.ts';

import { type Logger as ClientLogger, silentLogger } from '../../shared/logger.ts';

export type { ClientLogger };

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
  /** Where CONNECTs are carried to, e.g. the PC2 app on 127.0.0.1:4200. */
  upstream: { host: string; port: number };
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
  /** Opens the connection to the upstream. Default node:net connect. */
  createUpstream?: (host: string, port: number) => Socket;
  /**
   * Offer large DATA frames in AUTH (shared/tunnel/frame-offer.ts): used only if the server accepts,
   * stock servers never see a difference. Default true; false behaves exactly like a stock client.
   */
  largeFrames?: boolean;
  random?: () => number;
  logger?: ClientLogger;
}

export interface ResolvedClientOptions {
  serverHost: string;
  serverPort: number;
  servicePeerId: Id;
  deviceKey: KeyPair;
  userKey: KeyPair;
  upstream: { host: string; port: number };
  nameAccess: boolean;
  backoff: ResolvedBackoff;
  pingIntervalMs: number;
  pingJitterMs: number;
  idleTrimMs: number;
  handshakeTimeoutMs: number;
  disconnectGraceMs: number;
  createSocket?: (host: string, port: number) => Socket;
  createUpstream?: (host: string, port: number) => Socket;
  largeFrames: boolean;
  random: () => number;
  logger: ClientLogger;
}

const KNOWN = new Set([
  'serverHost', 'serverPort', 'servicePeerId', 'deviceKey', 'userKey', 'upstream', 'nameAccess', 'backoff', 'pingIntervalMs',
  'pingJitterMs', 'idleTrimMs', 'handshakeTimeoutMs', 'disconnectGraceMs', 'createSocket', 'createUpstream', 'largeFrames', 'random',
  'logger',
]);
const BACKOFF_KNOWN = new Set(Object.keys(BACKOFF_DEFAULTS));

const bad = (message: string) => new AgentError('INVALID_OPTIONS', message);

function ms(name: string, value: number | undefined, fallback: number, min = 1): number {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v < min) throw bad(`${name} must be a number >= ${min} (ms), got ${v}`);
  return v;
}

export function resolveClientOptions(o: TunnelClientOptions): ResolvedClientOptions {
  if (!o || typeof o !== 'object') throw bad('options object required');
  for (const name of Object.keys(o)) if (!KNOWN.has(name)) throw bad(`unknown option ${name}`);
  for (const name of Object.keys(o.backoff ?? {})) if (!BACKOFF_KNOWN.has(name)) throw bad(`unknown backoff option ${name}`);
  if (typeof o.serverHost !== 'string' || !o.serverHost) throw bad('serverHost is required');
  if (!(o.servicePeerId instanceof Id)) throw bad('servicePeerId (an Id) is required');
  if (!(o.deviceKey instanceof KeyPair)) throw bad('deviceKey (a KeyPair) is required');
  if (o.userKey !== undefined && !(o.userKey instanceof KeyPair)) throw bad('userKey must be a KeyPair');
  if (!o.upstream || typeof o.upstream.host !== 'string' || !Number.isInteger(o.upstream.port)) throw bad('upstream {host, port} is required');
  const serverPort = o.serverPort ?? 8090;
  if (!Number.isInteger(serverPort) || serverPort < 1 || serverPort > 65535) throw bad('serverPort must be 1..65535');
  const backoff = { ...BACKOFF_DEFAULTS, ...Object.fromEntries(Object.entries(o.backoff ?? {}).filter(([, v]) => v !== undefined)) } as ResolvedBackoff;
  for (const [name, value] of Object.entries(backoff)) if (!(typeof value === 'number' && value >= 0)) throw bad(`backoff.${name} must be >= 0`);
  const pingIntervalMs = ms('pingIntervalMs', o.pingIntervalMs, 60_000);
  if (o.largeFrames !== undefined && typeof o.largeFrames !== 'boolean') throw bad('largeFrames must be a boolean');
  return {
    serverHost: o.serverHost,
    serverPort,
    servicePeerId: o.servicePeerId,
    deviceKey: o.deviceKey,
    userKey: o.userKey ?? o.deviceKey,
    upstream: { host: o.upstream.host, port: o.upstream.port },
    nameAccess: o.nameAccess ?? true,
    backoff,
    pingIntervalMs,
    pingJitterMs: Math.min(ms('pingJitterMs', o.pingJitterMs, 10_000, 0), pingIntervalMs / 2),
    idleTrimMs: ms('idleTrimMs', o.idleTrimMs, 300_000),
    handshakeTimeoutMs: ms('handshakeTimeoutMs', o.handshakeTimeoutMs, 10_000),
    disconnectGraceMs: ms('disconnectGraceMs', o.disconnectGraceMs, 30_000),
    createSocket: o.createSocket,
    createUpstream: o.createUpstream,
    largeFrames: o.largeFrames ?? true,
    random: o.random ?? Math.random,
    logger: o.logger ?? silentLogger,
  };
}
