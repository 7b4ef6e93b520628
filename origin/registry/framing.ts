/**
 * Log framing: u32 length || u32 CRC-32 of the payload || payload (big-endian). A torn or corrupt
 * frame at the end of the file is detected by a short read or a checksum mismatch.
 */
import { crc32 } from 'node:zlib';

export const FRAME_HEADER_BYTES = 8;
export const MAX_FRAME_BYTES = 64 * 1024 * 1024;

export function encodeFrame(payload: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  frame.writeUInt32BE(payload.length, 0);
  frame.writeUInt32BE(crc32(payload), 4);
  frame.set(payload, FRAME_HEADER_BYTES);
  return frame;
}

export interface DecodedFrames {
  payloads: Buffer[];
  /** Bytes of whole, valid frames from the start; anything after is torn and must be dropped. */
  validBytes: number;
}

/** Reads frames until the data ends or a frame is short or fails its checksum. Never throws. */
export function decodeFrames(data: Buffer): DecodedFrames {
  const payloads: Buffer[] = [];
  let offset = 0;
  while (offset + FRAME_HEADER_BYTES <= data.length) {
    const length = data.readUInt32BE(offset);
    const sum = data.readUInt32BE(offset + 4);
    const end = offset + FRAME_HEADER_BYTES + length;
    if (length > MAX_FRAME_BYTES || end > data.length) break;
    const payload = data.subarray(offset + FRAME_HEADER_BYTES, end);
    if (crc32(payload) !== sum) break;
    payloads.push(payload);
    offset = end;
  }
  return { payloads, validBytes: offset };
}
