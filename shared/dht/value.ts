/**
 * DHT values (boson-wire.md section 5): immutable (id = SHA-256(data)), signed mutable (id = owner
 * key) and encrypted (a signed value whose data is a crypto_box for one recipient). Immutable objects.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, randomBytes } from '../bytes.ts';
import { CryptoBox } from '../crypto/box.ts';
import { err, ok, type Result, SharedError } from '../errors.ts';
import { Id } from '../id.ts';
import { idToX25519, type KeyPair, verifySignature } from '../keys.ts';
import { NONCE_BYTES } from './constants.ts';
import type { WireValueFields } from './wire.ts';

export interface ValueFields {
  publicKey?: Id;
  recipient?: Id;
  nonce?: Uint8Array;
  sequenceNumber?: number;
  signature?: Uint8Array;
  data: Uint8Array;
}

const int32BE = (n: number): Uint8Array => {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setInt32(0, n);
  return out;
};

export class Value {
  readonly publicKey?: Id;
  readonly recipient?: Id;
  readonly nonce?: Uint8Array;
  readonly sequenceNumber: number;
  readonly signature?: Uint8Array;
  readonly data: Uint8Array;
  #id?: Id;

  private constructor(fields: ValueFields) {
    this.publicKey = fields.publicKey;
    this.recipient = fields.recipient;
    this.nonce = fields.nonce?.slice();
    this.sequenceNumber = fields.sequenceNumber ?? 0;
    this.signature = fields.signature?.slice();
    this.data = fields.data.slice();
  }

  static createImmutable(data: Uint8Array): Value {
    return new Value({ data });
  }

  static createSigned(
    owner: KeyPair,
    data: Uint8Array,
    options: { sequenceNumber?: number; nonce?: Uint8Array } = {},
  ): Value {
    return Value.#signed(owner, undefined, data, options);
  }

  /** Data boxed for `recipient`: crypto_box(data, nonce, recipient X25519 pk, owner X25519 sk). */
  static createEncrypted(
    owner: KeyPair,
    recipient: Id,
    data: Uint8Array,
    options: { sequenceNumber?: number; nonce?: Uint8Array } = {},
  ): Value {
    const nonce = options.nonce ?? randomBytes(NONCE_BYTES);
    const boxed = CryptoBox.between(owner.x25519SecretKey, idToX25519(recipient)).seal(data, nonce);
    return Value.#signed(owner, recipient, boxed, { ...options, nonce });
  }

  static #signed(
    owner: KeyPair,
    recipient: Id | undefined,
    data: Uint8Array,
    options: { sequenceNumber?: number; nonce?: Uint8Array },
  ): Value {
    const sequenceNumber = options.sequenceNumber ?? 0;
    if (!Number.isInteger(sequenceNumber) || sequenceNumber < 0 || sequenceNumber > 0x7fffffff) {
      throw new SharedError('INVALID_RECORD', 'a sequence number is a non-negative 32-bit integer');
    }
    const nonce = options.nonce ?? randomBytes(NONCE_BYTES);
    if (nonce.length !== NONCE_BYTES)
      throw new SharedError('INVALID_RECORD', `a value nonce is ${NONCE_BYTES} bytes`);
    const unsigned = new Value({ publicKey: owner.id, recipient, nonce, sequenceNumber, data });
    return new Value({ ...unsigned.#fields(), signature: owner.sign(unsigned.signatureDigest()) });
  }

  /** A new version of a mutable value: next sequence number, fresh nonce, same recipient. */
  update(owner: KeyPair, data: Uint8Array): Value {
    if (!this.publicKey || !this.publicKey.equals(owner.id))
      throw new SharedError('WRONG_SIGNER', 'only the owner updates a value');
    const options = { sequenceNumber: this.sequenceNumber + 1 };
    return this.recipient
      ? Value.createEncrypted(owner, this.recipient, data, options)
      : Value.createSigned(owner, data, options);
  }

  get id(): Id {
    return (this.#id ??= this.publicKey ?? new Id(sha256(this.data)));
  }

  get isMutable(): boolean {
    return this.publicKey !== undefined;
  }

  get isEncrypted(): boolean {
    return this.recipient !== undefined;
  }

  /** SHA-256( k || [rec] || n || seq int32 BE || v ), what the owner signs. */
  signatureDigest(): Uint8Array {
    if (!this.publicKey || !this.nonce)
      throw new SharedError('INVALID_RECORD', 'an immutable value is not signed');
    const parts = [this.publicKey.bytes];
    if (this.recipient) parts.push(this.recipient.bytes);
    parts.push(this.nonce, int32BE(this.sequenceNumber), this.data);
    return sha256(concatBytes(...parts));
  }

  /** Immutable values are valid by construction (their id is their hash); mutable ones need a good signature. */
  isValid(): boolean {
    if (!this.isMutable) return true;
    if (!this.nonce || !this.signature) return false;
    return verifySignature(this.publicKey!, this.signatureDigest(), this.signature);
  }

  /** The plaintext of an encrypted value for its recipient, or null. */
  decrypt(recipient: KeyPair): Uint8Array | null {
    if (!this.recipient || !this.publicKey || !this.nonce || !this.recipient.equals(recipient.id))
      return null;
    try {
      return CryptoBox.between(recipient.x25519SecretKey, idToX25519(this.publicKey)).open(
        this.data,
        this.nonce,
      );
    } catch {
      return null;
    }
  }

  toWire(): WireValueFields {
    if (!this.isMutable) return { v: this.data };
    const out: WireValueFields = { k: this.publicKey!.bytes };
    if (this.recipient) out.rec = this.recipient.bytes;
    out.n = this.nonce;
    if (this.sequenceNumber !== 0) out.seq = this.sequenceNumber;
    out.sig = this.signature;
    out.v = this.data;
    return out;
  }

  /** A value from its wire fields; checks shape, not the signature (see isValid). */
  static fromWire(fields: WireValueFields): Result<Value> {
    if (!fields.v) return err(new SharedError('INVALID_RECORD', 'a value needs v'));
    if (!fields.k) {
      if (fields.rec || fields.n || fields.sig || fields.seq !== undefined) {
        return err(new SharedError('INVALID_RECORD', 'an immutable value has only v'));
      }
      return ok(Value.createImmutable(fields.v));
    }
    if (!fields.n || !fields.sig)
      return err(new SharedError('INVALID_RECORD', 'a mutable value needs n and sig'));
    if ((fields.seq ?? 0) < 0)
      return err(new SharedError('INVALID_RECORD', 'a sequence number is not negative'));
    return ok(
      new Value({
        publicKey: new Id(fields.k),
        recipient: fields.rec ? new Id(fields.rec) : undefined,
        nonce: fields.n,
        sequenceNumber: fields.seq ?? 0,
        signature: fields.sig,
        data: fields.v,
      }),
    );
  }

  #fields(): ValueFields {
    return {
      publicKey: this.publicKey,
      recipient: this.recipient,
      nonce: this.nonce,
      sequenceNumber: this.sequenceNumber,
      signature: this.signature,
      data: this.data,
    };
  }

  equals(other: Value): boolean {
    const a = this.toWire();
    const b = other.toWire();
    const same = (x?: Uint8Array, y?: Uint8Array) =>
      x === undefined
        ? y === undefined
        : y !== undefined && x.length === y.length && x.every((v, i) => v === y[i]);
    return (
      same(a.k, b.k) &&
      same(a.rec, b.rec) &&
      same(a.n, b.n) &&
      a.seq === b.seq &&
      same(a.sig, b.sig) &&
      same(a.v, b.v)
    );
  }
}
