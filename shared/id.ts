/**
 * Boson ids: the raw 32-byte Ed25519 public key. DHT node ids, peer ids, user ids and value keys all
 * live in this one 256-bit space, ordered by XOR distance.
 */
import { base58Decode, base58Encode } from './base58.ts';
import { bytesEqual, fromHex, toHex } from './bytes.ts';
import { SharedError } from './errors.ts';

export const ID_BYTES = 32;
export const DID_PREFIX = 'did:boson:';

export class Id {
  readonly bytes: Uint8Array;
  #text?: string;

  constructor(bytes: Uint8Array) {
    if (!(bytes instanceof Uint8Array) || bytes.length !== ID_BYTES) {
      throw new SharedError('INVALID_ID', `an id is ${ID_BYTES} bytes`);
    }
    this.bytes = bytes.slice();
  }

  /** Parses Base58 or `0x` + 64 hex digits. */
  static parse(text: string): Id {
    if (typeof text !== 'string' || text.length === 0) {
      throw new SharedError('INVALID_ID', 'an id must be a non-empty string');
    }
    if (text.startsWith('0x')) {
      if (text.length !== 2 + ID_BYTES * 2) {
        throw new SharedError('INVALID_ID', 'a hex id is 0x followed by 64 hex digits');
      }
      return new Id(fromHex(text.slice(2)));
    }
    let bytes: Uint8Array;
    try {
      bytes = base58Decode(text);
    } catch (e) {
      throw new SharedError('INVALID_ID', `not a Base58 id: ${(e as Error).message}`);
    }
    if (bytes.length !== ID_BYTES) {
      throw new SharedError(
        'INVALID_ID',
        `a Base58 id decodes to ${ID_BYTES} bytes, got ${bytes.length}`,
      );
    }
    return new Id(bytes);
  }

  static fromDid(did: string): Id {
    if (typeof did !== 'string' || !did.startsWith(DID_PREFIX)) {
      throw new SharedError('INVALID_DID', `a DID starts with ${DID_PREFIX}`);
    }
    const rest = did.slice(DID_PREFIX.length);
    if (rest.startsWith('0x')) throw new SharedError('INVALID_DID', 'a did:boson id is Base58');
    try {
      return Id.parse(rest);
    } catch (e) {
      throw new SharedError('INVALID_DID', (e as Error).message);
    }
  }

  static zero(): Id {
    return new Id(new Uint8Array(ID_BYTES));
  }

  static max(): Id {
    return new Id(new Uint8Array(ID_BYTES).fill(0xff));
  }

  toString(): string {
    return (this.#text ??= base58Encode(this.bytes));
  }

  toHexString(): string {
    return '0x' + toHex(this.bytes);
  }

  toDid(): string {
    return DID_PREFIX + this.toString();
  }

  toJSON(): string {
    return this.toString();
  }

  equals(other: Id): boolean {
    return bytesEqual(this.bytes, other.bytes);
  }

  /** XOR distance to another id, as an Id-sized big-endian integer. */
  distance(other: Id): Id {
    const out = new Uint8Array(ID_BYTES);
    for (let i = 0; i < ID_BYTES; i++) out[i] = this.bytes[i] ^ other.bytes[i];
    return new Id(out);
  }

  /** Unsigned big-endian comparison: negative, zero or positive. */
  compareTo(other: Id): number {
    return compareBytes(this.bytes, other.bytes);
  }

  /** Which of a and b is closer to this id: negative when a is closer, 0 when equal. */
  threeWayCompare(a: Id, b: Id): number {
    for (let i = 0; i < ID_BYTES; i++) {
      const da = this.bytes[i] ^ a.bytes[i];
      const db = this.bytes[i] ^ b.bytes[i];
      if (da !== db) return da - db;
    }
    return 0;
  }

  /**
   * Index of the k-bucket that `other` falls in, seen from this id: 255 minus the number of
   * leading zero bits of the distance (0 = differs only in the last bit), -1 for the same id.
   */
  bucketIndex(other: Id): number {
    for (let i = 0; i < ID_BYTES; i++) {
      const x = this.bytes[i] ^ other.bytes[i];
      if (x !== 0) return (ID_BYTES - 1 - i) * 8 + (31 - Math.clz32(x));
    }
    return -1;
  }
}

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}
