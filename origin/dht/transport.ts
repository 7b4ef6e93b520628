/**
 * One UDP socket of a DHT node. Datagram = sender id (32, clear) || CryptoContext message, one
 * context per peer (cached). Everything that fails on the way in is dropped and counted; nothing a
 * peer sends can throw out of the receive handler.
 */
import DgramAsPromised, { type SocketAsPromised } from 'dgram-as-promised';
import { concatBytes } from '../../shared/bytes.ts';
import { decodeCbor } from '../../shared/cbor/index.ts';
import { CONTEXT_OVERHEAD, CryptoContext } from '../../shared/crypto/context.ts';
import {
  addressKey,
  bytesToIp,
  decodeMessage,
  type DhtMessage,
  ErrorCode,
  isMethod,
  MessageType,
  METHOD_MASK,
  TYPE_MASK,
  encodeMessage,
  fromWireMessage,
  ipToBytes,
  methodOf,
  OUR_VERSION,
  toWireMessage,
} from '../../shared/dht/index.ts';
import { Id } from '../../shared/id.ts';
import { idToX25519, type KeyPair } from '../../shared/keys.ts';
import type { AbuseGuard } from './abuse.ts';
import type { DhtCounters } from './counters.ts';
import { NativeBoxFactory } from './native-box.ts';
import type { Logger } from './options.ts';

/** 32-byte id, 24-byte nonce, 16-byte MAC and the smallest message. */
export const MIN_DATAGRAM_BYTES = 32 + CONTEXT_OVERHEAD + 10;
/** The 3.1 caps on what we send. */
export const MAX_SEND_BYTES = { 4: 1400, 6: 1200 } as const;

export interface Remote {
  id: Id;
  host: string;
  port: number;
}

export interface TransportOptions {
  key: KeyPair;
  family: 4 | 6;
  host: string;
  port: number;
  maxPacketBytes: number;
  contextCacheSize: number;
  developerMode: boolean;
  counters: DhtCounters;
  abuse: AbuseGuard;
  logger: Logger;
  onMessage: (message: DhtMessage, from: Remote) => void;
}

export class UdpTransport {
  readonly family: 4 | 6;
  readonly #options: TransportOptions;
  readonly #contexts = new Map<string, CryptoContext>();
  readonly #boxes: NativeBoxFactory;
  #socket?: SocketAsPromised;
  #bound?: { host: string; port: number };
  #closed = false;

  constructor(options: TransportOptions) {
    this.#options = options;
    this.family = options.family;
    this.#boxes = new NativeBoxFactory(options.key.x25519SecretKey);
  }

  async start(): Promise<{ host: string; port: number }> {
    const { family, host, port } = this.#options;
    const socket = DgramAsPromised.createSocket(
      { type: family === 4 ? 'udp4' : 'udp6', ipv6Only: family === 6 },
      (msg, rinfo) => this.#receive(msg, rinfo.address, rinfo.port),
    );
    socket.socket.on('error', (e) =>
      this.#options.logger.warn?.('dht socket error', { error: String(e) }),
    );
    this.#socket = socket;
    const bound = await socket.bind({ address: host, port });
    this.#bound = { host: bound.address, port: bound.port };
    return this.#bound;
  }

  address(): { host: string; port: number } {
    return this.#bound ?? { host: this.#options.host, port: this.#options.port };
  }

  async stop(): Promise<void> {
    this.#closed = true;
    const socket = this.#socket;
    this.#socket = undefined;
    if (socket) await socket.close();
    this.#contexts.clear();
  }

  /** Where bans and rate limits apply: the IP, or IP and port in developer mode. */
  sourceOf(host: string, port: number): string {
    return this.#options.developerMode ? addressKey(host, port) : host;
  }

  #context(id: Id): CryptoContext {
    const key = id.toString();
    let context = this.#contexts.get(key);
    if (context) {
      // Keep the map in recency order: it is an LRU cache.
      this.#contexts.delete(key);
    } else {
      context = new CryptoContext(this.#boxes.between(idToX25519(id)));
      if (this.#contexts.size >= this.#options.contextCacheSize)
        this.#contexts.delete(this.#contexts.keys().next().value!);
    }
    this.#contexts.set(key, context);
    return context;
  }

  /** Encrypts and sends; false if the message is too big or the socket failed. */
  async send(to: Remote, message: DhtMessage): Promise<boolean> {
    const { counters, key } = this.#options;
    const socket = this.#socket;
    if (!socket || this.#closed) return false;
    // Stock nodes always send `v`; so do we (and the size floor of received datagrams assumes it).
    const plain = encodeMessage(
      toWireMessage({ ...message, version: message.version ?? OUR_VERSION }),
    );
    if (32 + CONTEXT_OVERHEAD + plain.length > MAX_SEND_BYTES[this.family]) {
      counters.sendFailures++;
      return false;
    }
    let datagram: Uint8Array;
    try {
      datagram = concatBytes(key.id.bytes, this.#context(to.id).encrypt(plain));
    } catch {
      counters.sendFailures++;
      return false;
    }
    try {
      await socket.send(datagram, to.port, to.host);
    } catch (e) {
      counters.sendFailures++;
      this.#options.logger.debug?.('dht send failed', {
        to: addressKey(to.host, to.port),
        error: String(e),
      });
      return false;
    }
    counters.packetsOut++;
    counters.bytesOut += datagram.length;
    if (message.kind === 'request') counters.count(counters.requestsOut, methodOf(message));
    if (message.kind === 'error') counters.count(counters.errorsOut, message.method);
    return true;
  }

  #receive(msg: Uint8Array, rawHost: string, port: number): void {
    const { counters, abuse } = this.#options;
    counters.packetsIn++;
    counters.bytesIn += msg.length;
    const host = canonicalHost(rawHost);
    if (!host) return counters.drop('malformed');
    const source = this.sourceOf(host, port);
    if (abuse.isBanned(source)) return counters.drop('banned');
    if (!abuse.allow(source)) return counters.drop('rateLimited');
    if (msg.length < MIN_DATAGRAM_BYTES) return counters.drop('tooShort');
    if (msg.length > this.#options.maxPacketBytes) return counters.drop('oversized');
    let id: Id;
    let context: CryptoContext;
    try {
      id = new Id(msg.slice(0, 32));
      context = this.#context(id);
    } catch {
      return counters.drop('invalidSender');
    }
    const plain = context.decrypt(msg.subarray(32));
    if (!plain.ok) return counters.drop('decryptFailed');
    const wire = decodeMessage(plain.value);
    const message = wire.ok ? fromWireMessage(wire.value) : wire;
    if (!message.ok) {
      counters.drop('malformed');
      // Only an authenticated sender can be blamed: the datagram decrypted under its id.
      if (abuse.strike(source))
        this.#options.logger.info?.('dht source banned', { source, reason: 'malformed' });
      const reply = protocolErrorFor(plain.value, message.error.message);
      if (reply) void this.send({ id, host, port }, reply);
      return;
    }
    try {
      this.#options.onMessage(message.value, { id, host, port });
    } catch (e) {
      this.#options.logger.error?.('dht message handler failed', { error: String(e) });
    }
  }
}

/**
 * The ERROR a malformed request deserves, when its envelope is readable enough to carry one back:
 * 204 for an unknown method, 203 for anything else. Answers and errors get no answer.
 */
function protocolErrorFor(plain: Uint8Array, reason: string): DhtMessage | undefined {
  const cbor = decodeCbor(plain, { maxDepth: 8 });
  if (
    !cbor.ok ||
    typeof cbor.value !== 'object' ||
    cbor.value === null ||
    Array.isArray(cbor.value)
  )
    return undefined;
  const { y, t } = cbor.value as Record<string, unknown>;
  if (typeof y !== 'number' || !Number.isInteger(y) || (y & TYPE_MASK) !== MessageType.REQUEST)
    return undefined;
  if (typeof t !== 'number' || !Number.isSafeInteger(t) || t <= 0) return undefined;
  const method = y & METHOD_MASK;
  const code = isMethod(method) ? ErrorCode.PROTOCOL : ErrorCode.METHOD_UNKNOWN;
  return { kind: 'error', txid: t, method, error: { code, message: reason.slice(0, 120) } };
}

const hostCache = new Map<string, string | null>();

/** The canonical text of a sender address (cached: a node hears the same few addresses all the time). */
function canonicalHost(raw: string): string | null {
  let host = hostCache.get(raw);
  if (host === undefined) {
    const ip = ipToBytes(raw);
    host = ip ? bytesToIp(ip) : null;
    if (hostCache.size >= 4096) hostCache.clear();
    hostCache.set(raw, host);
  }
  return host;
}
