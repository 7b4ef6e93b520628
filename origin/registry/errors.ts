/** The one error class of the registry, with stable codes mapped to HTTP statuses in one place. */
export const REGISTRY_ERROR_STATUS = {
  BAD_REQUEST: 400,
  INVALID_NAME: 400,
  UNAUTHENTICATED: 401,
  INVALID_SIGNATURE: 401,
  CLOCK_SKEW: 401,
  NOT_OWNER: 403,
  RESERVED_NAME: 403,
  NOT_FOUND: 404,
  NO_PENDING_TRANSFER: 404,
  NAME_TAKEN: 409,
  NAME_HELD: 409,
  REPLAYED: 409,
  STALE_SEQ: 409,
  INVALID_RECORD: 422,
  INVALID_ENDPOINT: 422,
  WRONG_NAME: 422,
  RATE_LIMITED: 429,
  INTERNAL: 500,
} as const;

export type RegistryErrorCode = keyof typeof REGISTRY_ERROR_STATUS;

export class RegistryError extends Error {
  readonly code: RegistryErrorCode;

  constructor(code: RegistryErrorCode, message: string) {
    super(message);
    this.name = 'RegistryError';
    this.code = code;
  }

  get status(): (typeof REGISTRY_ERROR_STATUS)[RegistryErrorCode] {
    return REGISTRY_ERROR_STATUS[this.code];
  }
}
