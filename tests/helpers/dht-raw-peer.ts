/**
 * A hand-driven DHT peer on a real UDP socket: sends exactly the datagrams a test builds (well-formed
 * requests, answers under any key, or garbage) and collects what comes back.
 */
import dgram from 'node:dgram';
import { concatBytes } from '../../shared/bytes.ts';
import { CryptoContext } from '../../shared/crypto/context.ts';
import {
  decodeMessage,
  type DhtMessage,
  type DhtRequest,
  encodeMessage,
  fromWireMessage,
  JAVA_VERSION,
  toWireMessage,
} from '../../shared/dht/index.ts';
import { Id } from '../../shared/id.ts';
import { idToX25519, KeyPair } from '../../shared/keys.ts';

export interface Received {
  from: Id;
  message: DhtMessage;
  host: string;
  port: number;
}

export class RawPeer {
  readonly key: KeyPair;
  readonly socket = dgram.createSocket('udp4');
  readonly received: Received[] = [];
  readonly #contexts = new Map<string, CryptoContext>();
  /** Every key we sent as: answers come back encrypted to whichever it was. */
  readonly #identities = new Map<string, KeyPair>();
  #waiters: (() => void)[] = [];
  #txid = 1;

  constructor(key: KeyPair = KeyPair.generate()) {
    this.key = key;
    this.socket.on('message', (msg, rinfo) => {
      const from = new Id(new Uint8Array(msg.subarray(0, 32)));
      let plain: ReturnType<CryptoContext['decrypt']> | undefined;
      for (const as of [this.key, ...this.#identities.values()]) {
        plain = this.context(from, as).decrypt(new Uint8Array(msg.subarray(32)));
        if (plain.ok) break;
      }
      if (!plain?.ok) return;
      const wire = decodeMessage(plain.value);
      if (!wire.ok) return;
      const message = fromWireMessage(wire.value);
      if (!message.ok) return;
      this.received.push({ from, message: message.value, host: rinfo.address, port: rinfo.port });
      for (const w of this.#waiters.splice(0)) w();
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.socket.bind(0, '127.0.0.1', resolve));
    return this;
  }

  get port(): number {
    return this.socket.address().port;
  }

  context(peer: Id, as: KeyPair): CryptoContext {
    const key = `${as.id}/${peer}`;
    let c = this.#contexts.get(key);
    if (!c)
      this.#contexts.set(key, (c = CryptoContext.between(as.x25519SecretKey, idToX25519(peer))));
    return c;
  }

  sendRaw(bytes: Uint8Array, port: number): Promise<void> {
    return new Promise((resolve, reject) =>
      this.socket.send(bytes, port, '127.0.0.1', (e) => (e ? reject(e) : resolve())),
    );
  }

  /** Encrypts `message` to `to` as `as` (default: our own key) and sends it. */
  send(to: { id: Id; port: number }, message: DhtMessage, as: KeyPair = this.key): Promise<void> {
    this.#identities.set(as.id.toString(), as);
    const plain = encodeMessage(toWireMessage({ version: JAVA_VERSION, ...message }));
    return this.sendRaw(concatBytes(as.id.bytes, this.context(to.id, as).encrypt(plain)), to.port);
  }

  /** The first received message matching `match`, waiting up to `ms`. */
  async waitFor(match: (r: Received) => boolean, ms = 5000): Promise<Received> {
    const deadline = Date.now() + ms;
    for (;;) {
      const hit = this.received.find(match);
      if (hit) return hit;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('no matching message arrived');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Sends a request and waits for the answer with the same txid. */
  async request(
    to: { id: Id; port: number },
    request: DhtRequest,
    as: KeyPair = this.key,
  ): Promise<DhtMessage> {
    const txid = this.#txid++;
    await this.send(to, { kind: 'request', txid, request }, as);
    const answer = await this.waitFor(
      (r) => r.message.kind !== 'request' && r.message.txid === txid && r.port === to.port,
    );
    return answer.message;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }
}
