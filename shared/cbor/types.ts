/**
 * Generic CBOR values. Maps whose keys are all plain text decode to ordinary objects (key order kept),
 * other maps to `Map`. Arrays and objects remember whether they were written with a definite or an
 * indefinite length, so that a decode + encode round trip reproduces the input bytes; new values use
 * the encoder's default and can be marked with `definite()` / `indefinite()`.
 */
export class CborTag {
  constructor(
    readonly tag: number | bigint,
    readonly value: CborValue,
  ) {}
}

export class CborSimple {
  constructor(readonly value: number) {}
}

export type CborMapObject = { [key: string]: CborValue };

export type CborValue =
  | number
  | bigint
  | string
  | boolean
  | null
  | undefined
  | Uint8Array
  | CborValue[]
  | CborMapObject
  | Map<CborValue, CborValue>
  | CborTag
  | CborSimple;

export type LengthForm = 'definite' | 'indefinite';

const LENGTH_FORM = Symbol('cbor.lengthForm');

type Marked = { [LENGTH_FORM]?: LengthForm };

function mark<T extends object>(value: T, form: LengthForm): T {
  Object.defineProperty(value, LENGTH_FORM, {
    value: form,
    enumerable: false,
    configurable: true,
    writable: true,
  });
  return value;
}

/** Marks an array or map to be written with a definite length. */
export const definite = <T extends object>(value: T): T => mark(value, 'definite');

/** Marks an array or map to be written with an indefinite length (0x9f/0xbf ... 0xff). */
export const indefinite = <T extends object>(value: T): T => mark(value, 'indefinite');

/** The length form a value was decoded with or marked with, if any. */
export const lengthFormOf = (value: object): LengthForm | undefined =>
  (value as Marked)[LENGTH_FORM];

/** True for a key that a plain object would reorder or treat specially. */
export const isUnsafeObjectKey = (key: string): boolean =>
  key === '__proto__' || /^(0|[1-9][0-9]*)$/.test(key);

export const isPlainCborObject = (value: unknown): value is CborMapObject =>
  typeof value === 'object' &&
  value !== null &&
  !Array.isArray(value) &&
  !(value instanceof Uint8Array) &&
  !(value instanceof Map) &&
  !(value instanceof CborTag) &&
  !(value instanceof CborSimple);
