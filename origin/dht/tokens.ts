/**
 * Write tokens: opaque int32s this node issues in FIND_NODE answers and checks on STORE_VALUE /
 * ANNOUNCE_PEER. A token is bound to the requester's id, address and port, the target and a 5-minute
 * time bucket, under a secret that rotates with the bucket; the current and the previous bucket pass.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, randomBytes } from '../../shared/bytes.ts';
import { ipToBytes } from '../../shared/dht/index.ts';
import type { Id } from '../../shared/id.ts';

export const TOKEN_BUCKET_MS = 5 * 60_000;

export class TokenManager {
  readonly #clock: () => number;
  #bucket: number;
  #current = randomBytes(32);
  #previous = randomBytes(32);

  constructor(clock: () => number) {
    this.#clock = clock;
    this.#bucket = Math.floor(clock() / TOKEN_BUCKET_MS);
  }

  #rotate(): void {
    const bucket = Math.floor(this.#clock() / TOKEN_BUCKET_MS);
    if (bucket === this.#bucket) return;
    this.#previous = bucket === this.#bucket + 1 ? this.#current : randomBytes(32);
    this.#current = randomBytes(32);
    this.#bucket = bucket;
  }

  #compute(
    requester: Id,
    host: string,
    port: number,
    target: Id,
    bucket: number,
    secret: Uint8Array,
  ): number {
    const fixed = new Uint8Array(10);
    const view = new DataView(fixed.buffer);
    view.setUint16(0, port);
    view.setBigUint64(2, BigInt(bucket));
    const digest = sha256(
      concatBytes(
        requester.bytes,
        ipToBytes(host) ?? new Uint8Array(0),
        fixed.subarray(0, 2),
        target.bytes,
        fixed.subarray(2),
        secret,
      ),
    );
    return new DataView(digest.buffer, digest.byteOffset).getInt32(0);
  }

  issue(requester: Id, host: string, port: number, target: Id): number {
    this.#rotate();
    return this.#compute(requester, host, port, target, this.#bucket, this.#current) || 1;
  }

  verify(token: number, requester: Id, host: string, port: number, target: Id): boolean {
    this.#rotate();
    const now = this.#compute(requester, host, port, target, this.#bucket, this.#current) || 1;
    const before =
      this.#compute(requester, host, port, target, this.#bucket - 1, this.#previous) || 1;
    return token === now || token === before;
  }
}
