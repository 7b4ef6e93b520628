/**
 * Active Proxy 3.0 frame types. The type byte on the wire is a random value inside the type's range
 * (obfuscation); an ACK sets bit 0x80. DATA and ERROR have no ACK form.
 */
import { randomBytes } from '../bytes.ts';

export type FrameKind = 'AUTH' | 'ATTACH' | 'PING' | 'CONNECT' | 'DISCONNECT' | 'DATA' | 'ERROR';

const RANGES: Record<FrameKind, readonly [number, number]> = {
  AUTH: [0x00, 0x07],
  ATTACH: [0x08, 0x0f],
  PING: [0x10, 0x1f],
  CONNECT: [0x20, 0x2f],
  DISCONNECT: [0x30, 0x3f],
  DATA: [0x40, 0x6f],
  ERROR: [0x70, 0x7f],
};

export const ACK_BIT = 0x80;

/** The kinds that have an ACK form. */
export const hasAck = (kind: FrameKind): boolean => kind !== 'DATA' && kind !== 'ERROR';

export function typeRange(kind: FrameKind): readonly [number, number] {
  return RANGES[kind];
}

/** A random type byte for `kind` (with the ACK bit when `ack`). */
export function randomTypeByte(
  kind: FrameKind,
  ack: boolean,
  random: () => number = randomByte,
): number {
  const [low, high] = RANGES[kind];
  const value = low + (random() % (high - low + 1));
  return ack ? value | ACK_BIT : value;
}

/** The kind and ACK flag of a type byte, or null for a byte outside every range (DATA/ERROR + ACK). */
export function parseTypeByte(byte: number): { kind: FrameKind; ack: boolean } | null {
  const ack = (byte & ACK_BIT) !== 0;
  const value = byte & 0x7f;
  for (const kind of Object.keys(RANGES) as FrameKind[]) {
    const [low, high] = RANGES[kind];
    if (value >= low && value <= high) return ack && !hasAck(kind) ? null : { kind, ack };
  }
  return null;
}

let pool: Uint8Array = new Uint8Array(0);
let poolAt = 0;

/** One random byte, drawn from a small pool so the hot path does not call getRandomValues per frame. */
export function randomByte(): number {
  if (poolAt >= pool.length) {
    pool = randomBytes(256);
    poolAt = 0;
  }
  return pool[poolAt++];
}

/** A uniform-enough random integer in [0, max] (max < 65536). */
export function randomUpTo(max: number): number {
  if (max <= 0) return 0;
  const value = (randomByte() << 8) | randomByte();
  return value % (max + 1);
}
