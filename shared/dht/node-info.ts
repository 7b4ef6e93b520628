/** A DHT node's contact: id, address and port, and its `[id, ip, port]` wire form. */
import { Id } from '../id.ts';
import { bytesToIp, ipToBytes } from '../ip.ts';
import type { WireNodeInfo } from './wire.ts';

export class NodeInfo {
  readonly id: Id;
  readonly host: string;
  readonly port: number;
  readonly #ip: Uint8Array;
  #address?: string;

  constructor(id: Id, host: string, port: number) {
    const ip = ipToBytes(host);
    if (!ip) throw new RangeError(`not an IP address: ${host}`);
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new RangeError(`not a port: ${port}`);
    this.id = id;
    this.#ip = ip;
    // Canonical text, so the same address always compares equal.
    this.host = bytesToIp(ip);
    this.port = port;
  }

  static fromWire([id, ip, port]: WireNodeInfo): NodeInfo {
    return new NodeInfo(new Id(id), bytesToIp(ip), port);
  }

  get ip(): Uint8Array {
    return this.#ip;
  }

  get isIPv4(): boolean {
    return this.#ip.length === 4;
  }

  /** `host:port`, the key under which a transport tracks an address. */
  get address(): string {
    return (this.#address ??= addressKey(this.host, this.port));
  }

  toWire(): WireNodeInfo {
    return [this.id.bytes, this.#ip, this.port];
  }

  equals(other: NodeInfo): boolean {
    return this.id.equals(other.id) && this.host === other.host && this.port === other.port;
  }

  toString(): string {
    return `${this.id}@${this.address}`;
  }
}

export const addressKey = (host: string, port: number): string =>
  host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
