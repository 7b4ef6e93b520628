/** The one error class of origin/dht, with stable codes. */
export type DhtErrorCode =
  | 'INVALID_OPTIONS'
  | 'NOT_RUNNING'
  | 'ALREADY_STARTED'
  | 'TIMEOUT'
  | 'REMOTE_ERROR'
  | 'SEND_FAILED'
  | 'MESSAGE_TOO_BIG'
  | 'STOPPED'
  | 'INVALID_VALUE'
  | 'INVALID_PEER'
  | 'ID_MISMATCH';

export class DhtError extends Error {
  readonly code: DhtErrorCode;
  /** The `c` of a protocol ERROR, for REMOTE_ERROR. */
  readonly remoteCode?: number;

  constructor(code: DhtErrorCode, message: string, remoteCode?: number) {
    super(message);
    this.name = 'DhtError';
    this.code = code;
    this.remoteCode = remoteCode;
  }
}
