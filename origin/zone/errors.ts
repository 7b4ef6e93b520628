/** The one error class of the zone (DNS data, its replication and its API), with stable codes mapped to HTTP statuses here. */
export const ZONE_ERROR_STATUS = {
  BAD_REQUEST: 400,
  INVALID_RECORD: 422,
  INVALID_SIGNATURE: 401,
  UNAUTHENTICATED: 401,
  CLOCK_SKEW: 401,
  NOT_OWNER: 403,
  NOT_FOUND: 404,
  REPLAYED: 409,
  RATE_LIMITED: 429,
  LIMIT_REACHED: 507,
} as const;

export type ZoneErrorCode = keyof typeof ZONE_ERROR_STATUS;

export class ZoneError extends Error {
  readonly code: ZoneErrorCode;

  constructor(code: ZoneErrorCode, message: string) {
    super(message);
    this.name = 'ZoneError';
    this.code = code;
  }

  get status(): (typeof ZONE_ERROR_STATUS)[ZoneErrorCode] {
    return ZONE_ERROR_STATUS[this.code];
  }
}
