/**
 * CBOR decoder that never throws: malformed input is an error result. Nesting depth is bounded and
 * every declared length is checked against the bytes that remain before anything is allocated.
 */
import { err, ok, type Result, SharedError } from '../errors.ts';
import {
  CborSimple,
  CborTag,
  type CborValue,
  indefinite,
  definite,
  isUnsafeObjectKey,
} from './types.ts';

export interface CborDecodeOptions {
  /** Deepest nesting of arrays, maps and tags accepted. Default 64. */
  maxDepth?: number;
  /** Accept bytes after the first item (and report where it ended). Default false. */
  allowTrailing?: boolean;
}

export interface CborDecoded {
  value: CborValue;
  /** Offset just past the decoded item. */
  end: number;
}

const BREAK = Symbol('break');
const textDecoder = new TextDecoder('utf-8', { fatal: true });

class Malformed extends Error {
  constructor(
    readonly code: 'CBOR_MALFORMED' | 'CBOR_TOO_DEEP',
    message: string,
  ) {
    super(message);
  }
}

class Reader {
  pos = 0;
  readonly view: DataView;

  constructor(
    readonly bytes: Uint8Array,
    readonly maxDepth: number,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get remaining(): number {
    return this.bytes.length - this.pos;
  }

  need(n: number): void {
    if (n > this.remaining)
      throw new Malformed('CBOR_MALFORMED', `truncated: need ${n} bytes at offset ${this.pos}`);
  }

  /** The argument of a head; -1 for the indefinite marker (additional info 31). */
  argument(info: number): number | bigint {
    if (info < 24) return info;
    switch (info) {
      case 24:
        this.need(1);
        return this.bytes[this.pos++];
      case 25:
        this.need(2);
        this.pos += 2;
        return this.view.getUint16(this.pos - 2);
      case 26:
        this.need(4);
        this.pos += 4;
        return this.view.getUint32(this.pos - 4);
      case 27: {
        this.need(8);
        this.pos += 8;
        const big = this.view.getBigUint64(this.pos - 8);
        return big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
      }
      case 31:
        return -1;
      default:
        throw new Malformed(
          'CBOR_MALFORMED',
          `reserved additional info ${info} at offset ${this.pos - 1}`,
        );
    }
  }

  /** A definite length that must fit in what remains (each unit at least `unit` bytes). */
  length(arg: number | bigint, unit: number): number {
    if (typeof arg === 'bigint' || arg * unit > this.remaining) {
      throw new Malformed(
        'CBOR_MALFORMED',
        `declared length ${arg} exceeds the ${this.remaining} bytes left`,
      );
    }
    return arg;
  }

  item(depth: number): CborValue | typeof BREAK {
    this.need(1);
    const initial = this.bytes[this.pos++];
    const major = initial >> 5;
    const info = initial & 0x1f;
    if (initial === 0xff) return BREAK;
    if (major === 7) return this.simple(info);
    const arg = this.argument(info);
    if (arg === -1 && (major === 0 || major === 1 || major === 6)) {
      throw new Malformed(
        'CBOR_MALFORMED',
        `indefinite length not allowed for major type ${major}`,
      );
    }
    switch (major) {
      case 0:
        return arg;
      case 1:
        return typeof arg === 'bigint' || arg === Number.MAX_SAFE_INTEGER
          ? -1n - BigInt(arg)
          : -1 - arg;
      case 2:
      case 3:
        return this.string(major, arg, depth);
      case 4:
        return this.array(arg, depth + 1);
      case 5:
        return this.map(arg, depth + 1);
      default: {
        if (depth + 1 > this.maxDepth)
          throw new Malformed('CBOR_TOO_DEEP', `nesting deeper than ${this.maxDepth}`);
        return new CborTag(arg, this.value(depth + 1));
      }
    }
  }

  value(depth: number): CborValue {
    const v = this.item(depth);
    if (v === BREAK)
      throw new Malformed('CBOR_MALFORMED', `unexpected break at offset ${this.pos - 1}`);
    return v;
  }

  simple(info: number): CborValue {
    switch (info) {
      case 20:
        return false;
      case 21:
        return true;
      case 22:
        return null;
      case 23:
        return undefined;
      case 24: {
        this.need(1);
        const v = this.bytes[this.pos++];
        if (v < 32) throw new Malformed('CBOR_MALFORMED', 'two-byte simple value below 32');
        return new CborSimple(v);
      }
      case 25: {
        this.need(2);
        this.pos += 2;
        return halfToNumber(this.view.getUint16(this.pos - 2));
      }
      case 26:
        this.need(4);
        this.pos += 4;
        return this.view.getFloat32(this.pos - 4);
      case 27:
        this.need(8);
        this.pos += 8;
        return this.view.getFloat64(this.pos - 8);
      default:
        if (info < 20) return new CborSimple(info);
        throw new Malformed('CBOR_MALFORMED', `reserved simple value ${info}`);
    }
  }

  string(major: 2 | 3, arg: number | bigint, depth: number): Uint8Array | string {
    let raw: Uint8Array;
    if (arg === -1) {
      const chunks: Uint8Array[] = [];
      let total = 0;
      for (;;) {
        this.need(1);
        if (this.bytes[this.pos] === 0xff) {
          this.pos++;
          break;
        }
        if ((this.bytes[this.pos] & 0x1f) === 31)
          throw new Malformed('CBOR_MALFORMED', 'nested indefinite string chunk');
        const chunk = this.item(depth + 1);
        if (major === 2 ? !(chunk instanceof Uint8Array) : typeof chunk !== 'string') {
          throw new Malformed('CBOR_MALFORMED', 'indefinite string chunk of the wrong type');
        }
        const bytes =
          typeof chunk === 'string' ? new TextEncoder().encode(chunk) : (chunk as Uint8Array);
        chunks.push(bytes);
        total += bytes.length;
      }
      raw = new Uint8Array(total);
      let offset = 0;
      for (const c of chunks) {
        raw.set(c, offset);
        offset += c.length;
      }
      if (major === 2) return raw;
    } else {
      const n = this.length(arg, 1);
      raw = this.bytes.slice(this.pos, this.pos + n);
      this.pos += n;
      if (major === 2) return raw;
    }
    try {
      return textDecoder.decode(raw);
    } catch {
      throw new Malformed('CBOR_MALFORMED', 'text string is not valid UTF-8');
    }
  }

  array(arg: number | bigint, depth: number): CborValue[] {
    if (depth > this.maxDepth)
      throw new Malformed('CBOR_TOO_DEEP', `nesting deeper than ${this.maxDepth}`);
    const out: CborValue[] = [];
    if (arg === -1) {
      for (let v = this.item(depth); v !== BREAK; v = this.item(depth)) out.push(v);
      return indefinite(out);
    }
    const n = this.length(arg, 1);
    for (let i = 0; i < n; i++) out.push(this.value(depth));
    return definite(out);
  }

  map(arg: number | bigint, depth: number): CborValue {
    if (depth > this.maxDepth)
      throw new Malformed('CBOR_TOO_DEEP', `nesting deeper than ${this.maxDepth}`);
    const keys: CborValue[] = [];
    const values: CborValue[] = [];
    if (arg === -1) {
      for (let k = this.item(depth); k !== BREAK; k = this.item(depth)) {
        keys.push(k);
        values.push(this.value(depth));
      }
    } else {
      const n = this.length(arg, 2);
      for (let i = 0; i < n; i++) {
        keys.push(this.value(depth));
        values.push(this.value(depth));
      }
    }
    const form = arg === -1 ? indefinite : definite;
    if (keys.every((k) => typeof k === 'string' && !isUnsafeObjectKey(k))) {
      const obj: Record<string, CborValue> = {};
      for (let i = 0; i < keys.length; i++) {
        const key = keys[i] as string;
        if (Object.prototype.hasOwnProperty.call(obj, key)) {
          throw new Malformed('CBOR_MALFORMED', `duplicate map key "${key}"`);
        }
        obj[key] = values[i];
      }
      return form(obj);
    }
    const map = new Map<CborValue, CborValue>();
    for (let i = 0; i < keys.length; i++) map.set(keys[i], values[i]);
    return form(map);
  }
}

function halfToNumber(half: number): number {
  const exp = (half >> 10) & 0x1f;
  const mant = half & 0x3ff;
  const sign = half & 0x8000 ? -1 : 1;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 31) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** Decodes one CBOR item. Returns an error result for malformed input; never throws. */
export function decodeCborItem(
  bytes: Uint8Array,
  options: CborDecodeOptions = {},
): Result<CborDecoded> {
  const reader = new Reader(bytes, options.maxDepth ?? 64);
  try {
    const value = reader.value(0);
    if (!options.allowTrailing && reader.remaining > 0) {
      return err(
        new SharedError('CBOR_TRAILING_BYTES', `${reader.remaining} bytes after the CBOR item`),
      );
    }
    return ok({ value, end: reader.pos });
  } catch (e) {
    if (e instanceof Malformed) return err(new SharedError(e.code, e.message));
    // Anything else (a RangeError from a JS engine limit) is still malformed input, not a crash.
    return err(new SharedError('CBOR_MALFORMED', (e as Error).message));
  }
}

/** Decodes a buffer that must hold exactly one CBOR item. */
export function decodeCbor(
  bytes: Uint8Array,
  options: Omit<CborDecodeOptions, 'allowTrailing'> = {},
): Result<CborValue> {
  const result = decodeCborItem(bytes, options);
  return result.ok ? ok(result.value.value) : result;
}
