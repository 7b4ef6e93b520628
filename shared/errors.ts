/**
 * The one error class of shared/. `code` is stable and machine-readable; callers map codes to
 * HTTP statuses or CLI exit codes in one place of their own.
 */
export type SharedErrorCode =
  | 'INVALID_ID'
  | 'INVALID_DID'
  | 'INVALID_BASE58'
  | 'INVALID_HEX'
  | 'INVALID_KEY'
  | 'INVALID_SIGNATURE'
  | 'DECRYPT_FAILED'
  | 'DUPLICATED_NONCE'
  | 'CBOR_MALFORMED'
  | 'CBOR_TOO_DEEP'
  | 'CBOR_TRAILING_BYTES'
  | 'CBOR_UNSUPPORTED'
  | 'INVALID_NAME'
  | 'RESERVED_NAME'
  | 'INVALID_RECORD'
  | 'WRONG_SIGNER'
  | 'EXPIRED'
  | 'INVALID_TOKEN'
  | 'FRAME_MALFORMED'
  | 'FRAME_TOO_LARGE'
  | 'INVALID_OPTIONS'
  | 'ADDRESS_NOT_PUBLIC'
  /** An HTTP/1.1 head or chunked body that is malformed or ambiguous (./http/). */
  | 'BAD_HTTP';

export class SharedError extends Error {
  readonly code: SharedErrorCode;

  constructor(code: SharedErrorCode, message: string) {
    super(message);
    this.name = 'SharedError';
    this.code = code;
  }
}

/** Result of an operation that must not throw into a socket loop. */
export type Result<T, E = SharedError> = { ok: true; value: T } | { ok: false; error: E };

export const ok = <T>(value: T): Result<T, never> => ({ ok: true, value });
export const err = <E = SharedError>(error: E): Result<never, E> => ({ ok: false, error });
