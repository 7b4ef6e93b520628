import { describe, expect, it } from 'vitest';
import messages from '../vectors/boson3-messages.json' with { type: 'json' };
import { base58Encode } from '../../shared/base58.ts';
import { fromHex, toBase64Url, toHex } from '../../shared/bytes.ts';
import {
  type CborValue,
  CborTag,
  decodeCbor,
  decodeCborItem,
  definite,
  encodeCbor,
  indefinite,
  lengthFormOf,
} from '../../shared/cbor/index.ts';

/** Raw 4- or 16-byte address as the text the JSON debug form uses. */
function ipText(bytes: Uint8Array): string {
  if (bytes.length === 4) return Array.from(bytes).join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] << 8) | bytes[i + 1]).toString(16));
  return groups.join(':');
}

/** Checks a decoded CBOR value against the JSON debug form of the same message. */
function matchesJson(decoded: CborValue, json: unknown): boolean {
  if (decoded instanceof Uint8Array && typeof json === 'string') {
    return [base58Encode(decoded), toBase64Url(decoded), ipText(decoded)].includes(json);
  }
  if (Array.isArray(json)) {
    return (
      Array.isArray(decoded) &&
      decoded.length === json.length &&
      json.every((j, i) => matchesJson(decoded[i], j))
    );
  }
  if (json !== null && typeof json === 'object') {
    if (decoded === null || typeof decoded !== 'object' || Array.isArray(decoded)) return false;
    const obj = decoded as Record<string, CborValue>;
    const keys = Object.keys(json);
    return (
      keys.length === Object.keys(obj).length &&
      keys.every((k) => matchesJson(obj[k], (json as Record<string, unknown>)[k]))
    );
  }
  return decoded === json;
}

describe('CBOR against the 44 Boson 3.0.0 messages', () => {
  it('has all 44 vectors', () => {
    expect(messages.vectors.length).toBe(44);
  });

  for (const v of messages.vectors) {
    it(`${v.id}: decodes to its JSON form and re-encodes byte-exactly`, () => {
      const decoded = decodeCbor(fromHex(v.cborHex));
      expect(decoded.ok).toBe(true);
      if (!decoded.ok) return;
      expect(matchesJson(decoded.value, JSON.parse(v.json))).toBe(true);
      expect(toHex(encodeCbor(decoded.value))).toBe(v.cborHex);
    });
  }

  it('keeps the Java length forms: indefinite envelope, definite n4 list', () => {
    const v = messages.vectors.find((m) => m.id === 'findNodeResponses/jsonV4')!;
    const decoded = decodeCbor(fromHex(v.cborHex));
    if (!decoded.ok) throw decoded.error;
    const envelope = decoded.value as Record<string, CborValue>;
    const body = envelope.r as Record<string, CborValue>;
    expect(lengthFormOf(envelope)).toBe('indefinite');
    expect(lengthFormOf(body.n4 as CborValue[])).toBe('definite');
    expect(lengthFormOf((body.n4 as CborValue[][])[0])).toBe('indefinite');
  });
});

describe('CBOR encoder', () => {
  it('writes shortest integer heads and exact 64-bit integers', () => {
    const cases: [CborValue, string][] = [
      [0, '00'],
      [23, '17'],
      [24, '1818'],
      [255, '18ff'],
      [256, '190100'],
      [65535, '19ffff'],
      [65536, '1a00010000'],
      [4294967295, '1affffffff'],
      [4294967296, '1b0000000100000000'],
      [Number.MAX_SAFE_INTEGER, '1b001fffffffffffff'],
      [18446744073709551615n, '1bffffffffffffffff'],
      [-1, '20'],
      [-1000, '3903e7'],
      [-18446744073709551616n, '3bffffffffffffffff'],
      [1.5, 'fb3ff8000000000000'],
      [true, 'f5'],
      [null, 'f6'],
      ['a', '6161'],
      [new Uint8Array([1, 2]), '420102'],
    ];
    for (const [value, hex] of cases) expect(toHex(encodeCbor(value))).toBe(hex);
    expect(() => encodeCbor(1n << 64n)).toThrow();
  });

  it('decodes 64-bit integers exactly (bigint past 2^53)', () => {
    const big = decodeCbor(fromHex('1bffffffffffffffff'));
    expect(big.ok && big.value).toBe(18446744073709551615n);
    const neg = decodeCbor(fromHex('3bffffffffffffffff'));
    expect(neg.ok && neg.value).toBe(-18446744073709551616n);
    const safe = decodeCbor(fromHex('1b001fffffffffffff'));
    expect(safe.ok && safe.value).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('honours definite() / indefinite() marks and a default form', () => {
    expect(toHex(encodeCbor(indefinite([1, 2])))).toBe('9f0102ff');
    expect(toHex(encodeCbor({ a: definite([1]) }, { defaultLengthForm: 'indefinite' }))).toBe(
      'bf61618101ff',
    );
    expect(toHex(encodeCbor({ a: 1, b: undefined }))).toBe('a1616101');
  });

  it('round-trips maps with non-text keys, tags and floats', () => {
    const map = new Map<CborValue, CborValue>([
      [1, 'one'],
      [new Uint8Array([9]), [true, false, null]],
    ]);
    const bytes = encodeCbor(new CborTag(42, map));
    const back = decodeCbor(bytes);
    expect(back.ok).toBe(true);
    if (back.ok) expect(toHex(encodeCbor(back.value))).toBe(toHex(bytes));
    const half = decodeCbor(fromHex('f93e00'));
    expect(half.ok && half.value).toBe(1.5);
  });
});

describe('CBOR decoder on malformed input', () => {
  const expectError = (hex: string, code = 'CBOR_MALFORMED') => {
    const result = decodeCbor(fromHex(hex));
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.code).toBe(code);
  };

  it('returns an error for every truncation of every vector', () => {
    for (const v of messages.vectors) {
      const bytes = fromHex(v.cborHex);
      for (let n = 0; n < bytes.length; n++)
        expect(decodeCbor(bytes.subarray(0, n)).ok).toBe(false);
    }
  });

  it('refuses declared lengths larger than the input', () => {
    expectError('5bffffffffffffffff00');
    expectError('7a7fffffff');
    expectError('9bffffffffffffffff');
    expectError('9a00100000');
    expectError('ba00100000');
  });

  it('bounds nesting depth', () => {
    expectError('81'.repeat(100_000) + '00', 'CBOR_TOO_DEEP');
    expectError('9f'.repeat(10_000), 'CBOR_TOO_DEEP');
    expectError('c1'.repeat(10_000) + '00', 'CBOR_TOO_DEEP');
    expect(decodeCbor(fromHex('81'.repeat(60) + '00')).ok).toBe(true);
    expect(decodeCbor(fromHex('81'.repeat(10) + '00'), { maxDepth: 5 }).ok).toBe(false);
  });

  it('refuses trailing bytes unless asked to allow them', () => {
    expectError('0000', 'CBOR_TRAILING_BYTES');
    const item = decodeCborItem(fromHex('0102'), { allowTrailing: true });
    expect(item.ok && item.value.end).toBe(1);
  });

  it('refuses breaks, reserved values, bad UTF-8 and duplicate keys', () => {
    expectError('ff');
    expectError('1c');
    expectError('62c328');
    expectError('a2616100616101');
    expectError('5f01ff');
    expectError('1f');
  });

  it('never throws on random input', () => {
    for (let i = 0; i < 5000; i++) {
      const bytes = crypto.getRandomValues(new Uint8Array(1 + (i % 64)));
      const result = decodeCbor(bytes);
      expect(typeof result.ok).toBe('boolean');
    }
  });
});
