/**
 * Boson 3.0 "CryptoContext": one per (our key, their key) pair. Each message is
 * nonce(24) || MAC(16) || ciphertext; the send nonce starts random and is incremented after every
 * message; a message carrying the same nonce as the previous one received is refused.
 */
import { bytesEqual, concatBytes, randomBytes } from '../bytes.ts';
import { err, ok, type Result, SharedError } from '../errors.ts';
import { CryptoBox, incrementNonce, MAC_BYTES, NONCE_BYTES } from './box.ts';

export const CONTEXT_OVERHEAD = NONCE_BYTES + MAC_BYTES;

export class CryptoContext {
  readonly #box: CryptoBox;
  readonly #sendNonce: Uint8Array;
  /** The nonce of the last message that authenticated (allocated once, then overwritten in place). */
  #lastReceivedNonce: Uint8Array | null = null;

  constructor(box: CryptoBox, startNonce: Uint8Array = randomBytes(NONCE_BYTES)) {
    if (startNonce.length !== NONCE_BYTES)
      throw new SharedError('INVALID_KEY', `a nonce is ${NONCE_BYTES} bytes`);
    this.#box = box;
    this.#sendNonce = startNonce.slice();
  }

  static between(ourX25519Secret: Uint8Array, theirX25519Public: Uint8Array): CryptoContext {
    return new CryptoContext(CryptoBox.between(ourX25519Secret, theirX25519Public));
  }

  encrypt(plain: Uint8Array): Uint8Array {
    const nonce = this.#sendNonce.slice();
    incrementNonce(this.#sendNonce);
    return concatBytes(nonce, this.#box.seal(plain, nonce));
  }

  /**
   * `header || nonce || MAC || ciphertext` in one allocation: lets framing code put its own header in
   * front of the message without copying the ciphertext again.
   */
  encryptAfter(header: Uint8Array, plain: Uint8Array): Uint8Array {
    const out = new Uint8Array(header.length + CONTEXT_OVERHEAD + plain.length);
    out.set(header, 0);
    this.encryptInto(out, header.length, plain);
    return out;
  }

  /**
   * Writes `nonce || MAC || ciphertext` of `plain` into `out` at `offset` (room for
   * CONTEXT_OVERHEAD + plain.length) and returns the bytes written: lets framing code pack several
   * messages into one buffer.
   */
  encryptInto(out: Uint8Array, offset: number, plain: Uint8Array): number {
    out.set(this.#sendNonce, offset);
    this.#box.sealInto(
      plain,
      out.subarray(offset, offset + NONCE_BYTES),
      out,
      offset + NONCE_BYTES,
    );
    incrementNonce(this.#sendNonce);
    return CONTEXT_OVERHEAD + plain.length;
  }

  /** Never throws: a short, forged or replayed message is an error value. */
  decrypt(message: Uint8Array): Result<Uint8Array> {
    if (message.length < CONTEXT_OVERHEAD) {
      return err(
        new SharedError('DECRYPT_FAILED', `message shorter than ${CONTEXT_OVERHEAD} bytes`),
      );
    }
    const nonce = message.subarray(0, NONCE_BYTES);
    if (this.#lastReceivedNonce && bytesEqual(nonce, this.#lastReceivedNonce)) {
      return err(new SharedError('DUPLICATED_NONCE', 'duplicated nonce'));
    }
    const plain = this.#box.open(message.subarray(NONCE_BYTES), nonce);
    if (!plain) return err(new SharedError('DECRYPT_FAILED', 'message does not authenticate'));
    this.#remember(nonce);
    return ok(plain);
  }

  /**
   * Like decrypt, but the plaintext replaces the ciphertext inside `message` (for a caller that owns
   * the bytes, such as a frame just read from a socket): the result is a view into `message`, and
   * nothing is allocated. A message that does not authenticate is left as it was.
   */
  decryptInPlace(message: Uint8Array): Result<Uint8Array> {
    if (message.length < CONTEXT_OVERHEAD) {
      return err(
        new SharedError('DECRYPT_FAILED', `message shorter than ${CONTEXT_OVERHEAD} bytes`),
      );
    }
    const nonce = message.subarray(0, NONCE_BYTES);
    if (this.#lastReceivedNonce && bytesEqual(nonce, this.#lastReceivedNonce)) {
      return err(new SharedError('DUPLICATED_NONCE', 'duplicated nonce'));
    }
    if (!this.#box.openInPlace(message.subarray(NONCE_BYTES), nonce)) {
      return err(new SharedError('DECRYPT_FAILED', 'message does not authenticate'));
    }
    this.#remember(nonce);
    return ok(message.subarray(CONTEXT_OVERHEAD));
  }

  /**
   * Like decryptInPlace for a message that arrived in pieces: `nonce` and `mac` (gathered by the
   * caller), then the ciphertext `pieces`, each decrypted where it lies.
   */
  decryptPiecesInPlace(
    nonce: Uint8Array,
    mac: Uint8Array,
    pieces: readonly Uint8Array[],
  ): Result<readonly Uint8Array[]> {
    if (this.#lastReceivedNonce && bytesEqual(nonce, this.#lastReceivedNonce)) {
      return err(new SharedError('DUPLICATED_NONCE', 'duplicated nonce'));
    }
    if (!this.#box.openPiecesInPlace(mac, pieces, nonce)) {
      return err(new SharedError('DECRYPT_FAILED', 'message does not authenticate'));
    }
    this.#remember(nonce);
    return ok(pieces);
  }

  #remember(nonce: Uint8Array): void {
    (this.#lastReceivedNonce ??= new Uint8Array(NONCE_BYTES)).set(nonce);
  }
}
