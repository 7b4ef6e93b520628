/**
 * Input generation for the fuzzers: a seeded generator, and mutators that turn valid inputs (seeds)
 * into hostile ones the way fuzzers do: bit flips, bytes set to boundary values, chunks inserted,
 * deleted, duplicated or spliced from another seed, lengths cut, and plain random bytes. Strings
 * (JWS, JSON) get the same at character level plus structural edits. Seeded: a failure replays.
 */
import { concatBytes } from '../../shared/bytes.ts';

export type Random = () => number;

/** xorshift32: fast, seedable, good enough to pick mutations. */
export function rng(seed: number): Random {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

const BOUNDARY = [
  0x00, 0x01, 0x7f, 0x80, 0xff, 0xfe, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1f, 0x9f, 0xbf,
];

export function randomBytes(random: Random, max: number): Uint8Array {
  const out = new Uint8Array(Math.floor(random() * max));
  for (let i = 0; i < out.length; i++) out[i] = Math.floor(random() * 256);
  return out;
}

/** One mutation of `input` (a fresh array); `other` is another seed for splices. */
export function mutateBytes(random: Random, input: Uint8Array, other: Uint8Array): Uint8Array {
  const int = (n: number) => Math.floor(random() * n);
  const at = () => int(Math.max(1, input.length));
  switch (int(10)) {
    case 0: {
      const b = input.slice();
      for (let n = 1 + int(4); n > 0 && b.length; n--) b[int(b.length)] ^= 1 << int(8);
      return b;
    }
    case 1: {
      const b = input.slice();
      for (let n = 1 + int(4); n > 0 && b.length; n--)
        b[int(b.length)] = BOUNDARY[int(BOUNDARY.length)];
      return b;
    }
    case 2:
      return input.slice(0, at());
    case 3: {
      const i = at();
      return concatBytes(
        input.subarray(0, i),
        input.subarray(Math.min(input.length, i + 1 + int(16))),
      );
    }
    case 4: {
      const i = at();
      return concatBytes(input.subarray(0, i), randomBytes(random, 32), input.subarray(i));
    }
    case 5: {
      const i = at();
      const j = Math.min(input.length, i + 1 + int(64));
      return concatBytes(input.subarray(0, j), input.subarray(i, j), input.subarray(j));
    }
    case 6: {
      const i = at();
      return concatBytes(input.subarray(0, i), other.subarray(int(Math.max(1, other.length))));
    }
    case 7: {
      // A 16- or 32-bit field (a length, a count) set to a boundary.
      const b = input.slice();
      const i = at();
      const v = [0, 1, 0x7f, 0x80, 0xff, 0xffff, 0x7fffffff, 0xffffffff][int(8)];
      for (let k = 0; k < 4 && i + k < b.length; k++) b[i + k] = (v >>> (8 * (3 - k))) & 0xff;
      return b;
    }
    case 8:
      return randomBytes(random, 2 * input.length + 16);
    default: {
      // Several mutations stacked.
      let b = input;
      for (let n = 2 + int(3); n > 0; n--) b = mutateBytes(random, b, other);
      return b;
    }
  }
}

const TEXT_PIECES = [
  '.',
  '..',
  '=',
  '"',
  '\\',
  '{',
  '}',
  '[',
  ']',
  ',',
  ':',
  'null',
  'true',
  '-0',
  '1e309',
  '9007199254740993',
  '"__proto__"',
  '"constructor"',
  '\u0000',
  '\ud800',
  'eyJ',
  'AAAA',
  '%',
];

/** One mutation of a string (JWS, JSON): character edits, pieces inserted, parts cut or repeated. */
export function mutateText(random: Random, input: string, other: string): string {
  const int = (n: number) => Math.floor(random() * n);
  const at = () => int(Math.max(1, input.length));
  switch (int(9)) {
    case 0: {
      const i = at();
      return input.slice(0, i) + String.fromCharCode(int(128)) + input.slice(i + 1);
    }
    case 1: {
      const i = at();
      return input.slice(0, i) + TEXT_PIECES[int(TEXT_PIECES.length)] + input.slice(i);
    }
    case 2:
      return input.slice(0, at());
    case 3: {
      const i = at();
      return input.slice(0, i) + input.slice(i + 1 + int(8));
    }
    case 4: {
      const i = at();
      const j = Math.min(input.length, i + 1 + int(40));
      return input.slice(0, j) + input.slice(i, j) + input.slice(j);
    }
    case 5:
      return input.slice(0, at()) + other.slice(int(Math.max(1, other.length)));
    case 6: {
      // Swap two dot-separated parts (JWS header/payload/signature) or repeat one.
      const parts = input.split('.');
      const i = int(parts.length);
      parts[int(parts.length)] = parts[i];
      return parts.join('.');
    }
    case 7:
      return '['.repeat(int(3000)) + ']'.repeat(int(3000));
    default: {
      let s = input;
      for (let n = 2 + int(3); n > 0; n--) s = mutateText(random, s, other);
      return s;
    }
  }
}
