/** CBOR encoder: shortest integer heads, exact 64-bit integers, chosen length forms. */
import { utf8Encode } from '../bytes.ts';
import { SharedError } from '../errors.ts';
import {
  CborSimple,
  CborTag,
  type CborValue,
  isPlainCborObject,
  type LengthForm,
  lengthFormOf,
} from './types.ts';

export interface CborEncodeOptions {
  /** Length form for arrays and maps that carry no mark of their own. Default 'definite'. */
  defaultLengthForm?: LengthForm;
}

const MAX_UINT64 = (1n << 64n) - 1n;

class Writer {
  buffer = new Uint8Array(256);
  view = new DataView(this.buffer.buffer);
  length = 0;

  ensure(extra: number): void {
    if (this.length + extra <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < this.length + extra) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buffer.subarray(0, this.length));
    this.buffer = next;
    this.view = new DataView(next.buffer);
  }

  byte(b: number): void {
    this.ensure(1);
    this.buffer[this.length++] = b;
  }

  bytes(data: Uint8Array): void {
    this.ensure(data.length);
    this.buffer.set(data, this.length);
    this.length += data.length;
  }

  /** A head: major type and argument in the shortest form. */
  head(major: number, arg: number | bigint): void {
    const m = major << 5;
    if (typeof arg === 'bigint') {
      if (arg <= 0xffffffffn) return this.head(major, Number(arg));
      this.ensure(9);
      this.buffer[this.length] = m | 27;
      this.view.setBigUint64(this.length + 1, arg);
      this.length += 9;
      return;
    }
    if (arg < 24) return this.byte(m | arg);
    if (arg < 0x100) {
      this.ensure(2);
      this.buffer[this.length++] = m | 24;
      this.buffer[this.length++] = arg;
    } else if (arg < 0x10000) {
      this.ensure(3);
      this.buffer[this.length] = m | 25;
      this.view.setUint16(this.length + 1, arg);
      this.length += 3;
    } else if (arg < 0x100000000) {
      this.ensure(5);
      this.buffer[this.length] = m | 26;
      this.view.setUint32(this.length + 1, arg);
      this.length += 5;
    } else {
      this.head(major, BigInt(arg));
    }
  }

  float64(value: number): void {
    this.ensure(9);
    this.buffer[this.length] = 0xfb;
    this.view.setFloat64(this.length + 1, value);
    this.length += 9;
  }
}

export function encodeCbor(value: CborValue, options: CborEncodeOptions = {}): Uint8Array {
  const writer = new Writer();
  writeValue(writer, value, options.defaultLengthForm ?? 'definite', 0);
  return writer.buffer.slice(0, writer.length);
}

const MAX_ENCODE_DEPTH = 256;

function writeValue(w: Writer, value: CborValue, form: LengthForm, depth: number): void {
  if (depth > MAX_ENCODE_DEPTH)
    throw new SharedError('CBOR_TOO_DEEP', 'value nests too deeply to encode');
  switch (typeof value) {
    case 'number':
      if (Number.isSafeInteger(value)) return value >= 0 ? w.head(0, value) : w.head(1, -1 - value);
      return w.float64(value);
    case 'bigint':
      if (value >= 0n && value <= MAX_UINT64) return w.head(0, value);
      if (value < 0n && -1n - value <= MAX_UINT64) return w.head(1, -1n - value);
      throw new SharedError('CBOR_UNSUPPORTED', 'integer does not fit in 64 bits');
    case 'string': {
      const bytes = utf8Encode(value);
      w.head(3, bytes.length);
      return w.bytes(bytes);
    }
    case 'boolean':
      return w.byte(value ? 0xf5 : 0xf4);
    case 'undefined':
      return w.byte(0xf7);
  }
  if (value === null) return w.byte(0xf6);
  if (value instanceof Uint8Array) {
    w.head(2, value.length);
    return w.bytes(value);
  }
  if (value instanceof CborTag) {
    w.head(6, value.tag);
    return writeValue(w, value.value, form, depth + 1);
  }
  if (value instanceof CborSimple) {
    if (value.value < 24) return w.byte(0xe0 | value.value);
    w.byte(0xf8);
    return w.byte(value.value);
  }
  if (Array.isArray(value)) {
    const open = (lengthFormOf(value) ?? form) === 'indefinite';
    open ? w.byte(0x9f) : w.head(4, value.length);
    for (const item of value) writeValue(w, item, form, depth + 1);
    if (open) w.byte(0xff);
    return;
  }
  let entries: [CborValue, CborValue][];
  if (value instanceof Map) entries = [...value.entries()];
  // Like JSON, an object key whose value is undefined is left out: optional wire fields stay absent.
  else if (isPlainCborObject(value))
    entries = Object.entries(value).filter(([, v]) => v !== undefined);
  else
    throw new SharedError(
      'CBOR_UNSUPPORTED',
      `cannot encode ${Object.prototype.toString.call(value)}`,
    );
  const open = (lengthFormOf(value) ?? form) === 'indefinite';
  open ? w.byte(0xbf) : w.head(5, entries.length);
  for (const [k, v] of entries) {
    writeValue(w, k, form, depth + 1);
    writeValue(w, v, form, depth + 1);
  }
  if (open) w.byte(0xff);
}
