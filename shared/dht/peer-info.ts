/**
 * PeerInfo (boson-wire.md section 6): a service endpoint announced under a peer key, optionally
 * authenticated by the node that hosts it. Immutable objects; several instances of one peer id are told
 * apart by their fingerprint.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, randomBytes, utf8Encode } from '../bytes.ts';
import { err, ok, type Result, SharedError } from '../errors.ts';
import { Id } from '../id.ts';
import { type KeyPair, verifySignature } from '../keys.ts';
import { NONCE_BYTES } from './constants.ts';
import type { WireInt, WirePeerInfo } from './wire.ts';

export interface PeerInfoOptions {
  sequenceNumber?: number;
  /** The hosting node's key: makes an authenticated peer (`o` + `os`). */
  node?: KeyPair;
  /** int64; 0 or absent picks a random one. */
  fingerprint?: bigint;
  extra?: Uint8Array;
  nonce?: Uint8Array;
}

interface PeerInfoFields {
  id: Id;
  nonce: Uint8Array;
  sequenceNumber: number;
  nodeId?: Id;
  nodeSignature?: Uint8Array;
  signature: Uint8Array;
  fingerprint: bigint;
  endpoint: string;
  extra?: Uint8Array;
}

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

function randomFingerprint(): bigint {
  const view = new DataView(randomBytes(8).buffer);
  const f = view.getBigInt64(0);
  return f === 0n ? 1n : f;
}

const wireInt = (n: bigint): WireInt =>
  n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;

export class PeerInfo {
  readonly id: Id;
  readonly nonce: Uint8Array;
  readonly sequenceNumber: number;
  readonly nodeId?: Id;
  readonly nodeSignature?: Uint8Array;
  readonly signature: Uint8Array;
  readonly fingerprint: bigint;
  readonly endpoint: string;
  readonly extra?: Uint8Array;

  private constructor(f: PeerInfoFields) {
    this.id = f.id;
    this.nonce = f.nonce.slice();
    this.sequenceNumber = f.sequenceNumber;
    this.nodeId = f.nodeId;
    this.nodeSignature = f.nodeSignature?.slice();
    this.signature = f.signature.slice();
    this.fingerprint = f.fingerprint;
    this.endpoint = f.endpoint;
    this.extra = f.extra?.slice();
  }

  static create(peer: KeyPair, endpoint: string, options: PeerInfoOptions = {}): PeerInfo {
    const sequenceNumber = options.sequenceNumber ?? 0;
    if (!Number.isInteger(sequenceNumber) || sequenceNumber < 0 || sequenceNumber > 0x7fffffff) {
      throw new SharedError('INVALID_RECORD', 'a sequence number is a non-negative 32-bit integer');
    }
    if (typeof endpoint !== 'string' || endpoint.length === 0)
      throw new SharedError('INVALID_RECORD', 'a peer needs an endpoint');
    const fingerprint = options.fingerprint || randomFingerprint();
    if (fingerprint < INT64_MIN || fingerprint > INT64_MAX)
      throw new SharedError('INVALID_RECORD', 'a fingerprint is an int64');
    const nonce = options.nonce ?? randomBytes(NONCE_BYTES);
    if (nonce.length !== NONCE_BYTES)
      throw new SharedError('INVALID_RECORD', `a peer nonce is ${NONCE_BYTES} bytes`);
    const nodeId = options.node?.id;
    const nodeSignature = options.node?.sign(PeerInfo.nodeDigest(peer.id, options.node.id, nonce));
    const fields: PeerInfoFields = {
      id: peer.id,
      nonce,
      sequenceNumber,
      nodeId,
      nodeSignature,
      signature: new Uint8Array(64),
      fingerprint,
      endpoint: endpoint.normalize('NFC'),
      extra: options.extra,
    };
    fields.signature = peer.sign(new PeerInfo(fields).signatureDigest());
    return new PeerInfo(fields);
  }

  /** The same peer with a new endpoint or extra: next sequence number, same fingerprint and nonce. */
  update(
    peer: KeyPair,
    endpoint: string,
    options: { node?: KeyPair; extra?: Uint8Array } = {},
  ): PeerInfo {
    return PeerInfo.create(peer, endpoint, {
      ...options,
      sequenceNumber: this.sequenceNumber + 1,
      fingerprint: this.fingerprint,
      nonce: this.nonce,
    });
  }

  get isAuthenticated(): boolean {
    return this.nodeId !== undefined;
  }

  /** SHA-256( k || o || n ), what the hosting node signs. */
  static nodeDigest(peerId: Id, nodeId: Id, nonce: Uint8Array): Uint8Array {
    return sha256(concatBytes(peerId.bytes, nodeId.bytes, nonce));
  }

  /** SHA-256( k || n || seq int32 BE || [o || os] || f int64 BE || e UTF-8 || [ex] ), what the peer key signs. */
  signatureDigest(): Uint8Array {
    const numbers = new Uint8Array(12);
    const view = new DataView(numbers.buffer);
    view.setInt32(0, this.sequenceNumber);
    view.setBigInt64(4, this.fingerprint);
    const parts = [this.id.bytes, this.nonce, numbers.subarray(0, 4)];
    if (this.nodeId && this.nodeSignature) parts.push(this.nodeId.bytes, this.nodeSignature);
    parts.push(numbers.subarray(4), utf8Encode(this.endpoint));
    if (this.extra) parts.push(this.extra);
    return sha256(concatBytes(...parts));
  }

  isValid(): boolean {
    if (this.endpoint.length === 0 || this.endpoint !== this.endpoint.normalize('NFC'))
      return false;
    if ((this.nodeId === undefined) !== (this.nodeSignature === undefined)) return false;
    if (
      this.nodeId &&
      !verifySignature(
        this.nodeId,
        PeerInfo.nodeDigest(this.id, this.nodeId, this.nonce),
        this.nodeSignature!,
      )
    ) {
      return false;
    }
    return verifySignature(this.id, this.signatureDigest(), this.signature);
  }

  /** The `p` list entry of a FIND_PEER response. */
  toWire(): WirePeerInfo {
    const out: WirePeerInfo = {
      id: this.id.bytes,
      n: this.nonce,
      sig: this.signature,
      f: wireInt(this.fingerprint),
      e: this.endpoint,
    };
    if (this.sequenceNumber !== 0) out.seq = this.sequenceNumber;
    if (this.nodeId) {
      out.o = this.nodeId.bytes;
      out.os = this.nodeSignature;
    }
    if (this.extra) out.ex = this.extra;
    // Key order is the encoder's business; this object only carries the fields.
    return out;
  }

  /** Shape check only; see isValid for the signatures. */
  static fromWire(w: WirePeerInfo): Result<PeerInfo> {
    if ((w.o === undefined) !== (w.os === undefined))
      return err(new SharedError('INVALID_RECORD', 'o and os come together'));
    if ((w.seq ?? 0) < 0)
      return err(new SharedError('INVALID_RECORD', 'a sequence number is not negative'));
    if (typeof w.e !== 'string' || w.e.length === 0)
      return err(new SharedError('INVALID_RECORD', 'a peer needs an endpoint'));
    return ok(
      new PeerInfo({
        id: new Id(w.id),
        nonce: w.n,
        sequenceNumber: w.seq ?? 0,
        nodeId: w.o ? new Id(w.o) : undefined,
        nodeSignature: w.os,
        signature: w.sig,
        fingerprint: BigInt(w.f),
        endpoint: w.e,
        extra: w.ex,
      }),
    );
  }
}
