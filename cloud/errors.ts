/** The one error class of the personal cloud, with stable codes mapped to HTTP statuses in one place. */
export const CLOUD_ERROR_STATUS = {
  BAD_REQUEST: 400,
  INVALID_PATH: 400,
  INVALID_JSON: 400,
  INVALID_BACKUP: 422,
  UNAUTHENTICATED: 401,
  INVALID_SIGNATURE: 401,
  FORBIDDEN: 403,
  BAD_ORIGIN: 403,
  OWNER_CODE_REQUIRED: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  ALREADY_EXISTS: 409,
  NO_PARENT: 409,
  GONE: 410,
  LENGTH_REQUIRED: 411,
  PRECONDITION_FAILED: 412,
  TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RANGE_NOT_SATISFIABLE: 416,
  INVALID_MODULE: 422,
  MEMORY_LIMIT: 422,
  LOCKED: 423,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  BAD_GATEWAY: 502,
  UNAVAILABLE: 503,
  CHAT_NOT_CONFIGURED: 503,
  MISDIRECTED: 421,
  CHECKSUM_MISMATCH: 460,
  QUOTA_EXCEEDED: 507,
} as const;

export type CloudErrorCode = keyof typeof CLOUD_ERROR_STATUS;

export class CloudError extends Error {
  readonly code: CloudErrorCode;

  constructor(code: CloudErrorCode, message: string) {
    super(message);
    this.name = 'CloudError';
    this.code = code;
  }

  get status(): number {
    return CLOUD_ERROR_STATUS[this.code];
  }
}

export const fail = (code: CloudErrorCode, message: string): never => {
  throw new CloudError(code, message);
};
