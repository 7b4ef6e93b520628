/** The one error class of the registry, with stable codes mapped to HTTP statuses in one place. */
import { REGISTRY_API_ERRORS } from '../../shared/records/api.ts';

/** The API's codes (shared/records/api.ts), and INVALID_OPTIONS for a registry built with bad options. */
export const REGISTRY_ERROR_STATUS = { ...REGISTRY_API_ERRORS, INVALID_OPTIONS: 500 } as const;

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
