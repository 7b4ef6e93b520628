/**
 * Log framing that survives damage in the middle of a file. Each frame is
 *
 *   "PC2L" (4 bytes) | u32 length | u32 CRC-32 of the payload | u32 CRC-32 of the 12 bytes before | payload
 *
 * (big-endian). A frame whose header or payload fails its checksum is skipped by searching for the
 * next "PC2L" whose header and payload check out, so one damaged record costs that record, not
 * every record after it (the earlier framing, `u32 length | u32 CRC | payload`, lost the rest of the
 * file: 252 of 501 names after one flipped byte). The reader tells damage in the middle apart from a
 * torn last write: only the last frame can be torn (its header says more bytes than the file holds,
 * or less than a header is left, or the tail is zero-filled), and a torn write was never
 * acknowledged. Everything else that fails a checksum is damage, and is reported with its range.
 */
import { crc32 } from 'node:zlib';

export const FRAME_MAGIC = Buffer.from('PC2L', 'latin1');
export const FRAME_HEADER_BYTES = 16;
export const MAX_FRAME_BYTES = 64 * 1024 * 1024;

export function encodeFrame(payload: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  FRAME_MAGIC.copy(frame, 0);
  frame.writeUInt32BE(payload.length, 4);
  frame.writeUInt32BE(crc32(payload), 8);
  frame.writeUInt32BE(crc32(frame.subarray(0, 12)), 12);
  frame.set(payload, FRAME_HEADER_BYTES);
  return frame;
}

/** A byte range of the file that failed its checksums and was skipped. */
export interface DamagedRange {
  offset: number;
  bytes: number;
}

export interface DecodedFrames {
  payloads: Buffer[];
  /** Where appending continues: the end of the last whole, valid frame. */
  validBytes: number;
  /** Ranges skipped between valid frames, and a damaged (not torn) tail. */
  damaged: DamagedRange[];
  /** A torn last write after `validBytes` (never acknowledged): dropped without a report. */
  tornBytes: number;
}

type Probe = { kind: 'frame'; end: number } | { kind: 'torn' } | { kind: 'bad' };

/** What starts at `offset`: a valid frame, a frame cut short by the end of the data, or neither. */
function probe(data: Buffer, offset: number): Probe {
  if (data.length - offset < FRAME_HEADER_BYTES) {
    // Too short for a header: torn if what is there is a prefix of one.
    const rest = data.subarray(offset, offset + 4);
    return FRAME_MAGIC.subarray(0, rest.length).equals(rest) ? { kind: 'torn' } : { kind: 'bad' };
  }
  if (data.compare(FRAME_MAGIC, 0, 4, offset, offset + 4) !== 0) return { kind: 'bad' };
  if (crc32(data.subarray(offset, offset + 12)) !== data.readUInt32BE(offset + 12))
    return { kind: 'bad' };
  const length = data.readUInt32BE(offset + 4);
  if (length > MAX_FRAME_BYTES) return { kind: 'bad' };
  const end = offset + FRAME_HEADER_BYTES + length;
  if (end > data.length) return { kind: 'torn' };
  const payload = data.subarray(offset + FRAME_HEADER_BYTES, end);
  return crc32(payload) === data.readUInt32BE(offset + 8)
    ? { kind: 'frame', end }
    : { kind: 'bad' };
}

/** The next offset after `from` where a valid frame starts, or -1. */
function resync(data: Buffer, from: number): number {
  for (let at = data.indexOf(FRAME_MAGIC, from); at >= 0; at = data.indexOf(FRAME_MAGIC, at + 1)) {
    if (probe(data, at).kind === 'frame') return at;
  }
  return -1;
}

const zeros = (data: Buffer, from: number) => {
  for (let i = from; i < data.length; i++) if (data[i] !== 0) return false;
  return true;
};

/** Every valid frame of `data`, skipping damaged ranges. Never throws. */
export function decodeFrames(data: Buffer): DecodedFrames {
  const payloads: Buffer[] = [];
  const damaged: DamagedRange[] = [];
  let offset = 0;
  let validBytes = 0;
  while (offset < data.length) {
    const found = probe(data, offset);
    if (found.kind === 'frame') {
      payloads.push(data.subarray(offset + FRAME_HEADER_BYTES, found.end));
      offset = validBytes = found.end;
      continue;
    }
    const next = resync(data, offset + 1);
    if (next < 0) {
      // Nothing valid follows: a torn last write, or a damaged tail.
      if (found.kind !== 'torn' && !zeros(data, offset))
        damaged.push({ offset, bytes: data.length - offset });
      break;
    }
    damaged.push({ offset, bytes: next - offset });
    offset = next;
  }
  const damagedTail = damaged.at(-1);
  const tailEnd = damagedTail ? damagedTail.offset + damagedTail.bytes : 0;
  const tornBytes = tailEnd === data.length ? 0 : data.length - validBytes;
  return { payloads, validBytes, damaged, tornBytes };
}

/** Whether `data` is a log in the earlier framing (no "PC2L"), which `decodeLegacyFrames` reads. */
export function isLegacyLog(data: Buffer): boolean {
  return (
    data.length > 0 &&
    !FRAME_MAGIC.subarray(0, Math.min(4, data.length)).equals(data.subarray(0, 4))
  );
}

/** The earlier framing (`u32 length | u32 CRC | payload`): up to the first bad frame, and where that is. */
export function decodeLegacyFrames(data: Buffer): { payloads: Buffer[]; validBytes: number } {
  const payloads: Buffer[] = [];
  let offset = 0;
  while (offset + 8 <= data.length) {
    const length = data.readUInt32BE(offset);
    const end = offset + 8 + length;
    if (length > MAX_FRAME_BYTES || end > data.length) break;
    const payload = data.subarray(offset + 8, end);
    if (crc32(payload) !== data.readUInt32BE(offset + 4)) break;
    payloads.push(payload);
    offset = end;
  }
  return { payloads, validBytes: offset };
}
