/**
 * The backup archive: a header line, then frames, each
 *   kind (1 byte: D database, B blob, M manifest) · name length (u32 BE) · name (UTF-8)
 *   · data length (u64 BE) · data · SHA-256 of the data (32 bytes),
 * and the manifest last: JSON with the counts and the chain, a SHA-256 over every earlier frame's
 * kind, name, length and checksum in order. A flipped bit fails its frame's checksum; a dropped,
 * repeated or reordered frame fails the chain; a truncated archive has no manifest. Everything is
 * streamed: a frame's data is never held whole in memory.
 */
import { createHash, type Hash } from 'node:crypto';
import { CloudError } from '../errors.ts';

export const MAGIC = Buffer.from('PC2-CLOUD-BACKUP 1\n', 'ascii');
export type FrameKind = 'D' | 'B' | 'M';
const KINDS = new Set(['D', 'B', 'M']);
const MAX_NAME = 1024;

export interface Manifest {
  format: 'pc2-cloud-backup';
  version: 1;
  createdAt: number;
  wallets: number;
  files: number;
  blobs: number;
  blobBytes: number;
  /** Hex SHA-256 chain over every frame before the manifest. */
  chain: string;
}

export function frameHead(kind: FrameKind, name: string, length: number): Buffer {
  const n = Buffer.from(name, 'utf8');
  const head = Buffer.alloc(1 + 4 + n.length + 8);
  head.write(kind, 0, 'ascii');
  head.writeUInt32BE(n.length, 1);
  n.copy(head, 5);
  head.writeBigUInt64BE(BigInt(length), 5 + n.length);
  return head;
}

/** The running chain over frames: what the manifest's `chain` must equal. */
export class Chain {
  private readonly hash: Hash = createHash('sha256');
  add(kind: FrameKind, name: string, length: number, sum: Buffer): void {
    this.hash.update(frameHead(kind, name, length)).update(sum);
  }
  hex(): string {
    return this.hash.copy().digest('hex');
  }
}

export const invalid = (message: string): CloudError => new CloudError('INVALID_BACKUP', message);

/** Reads exact byte counts from an async byte stream, with the offset for error messages. */
export class ByteReader {
  private buf: Buffer = Buffer.alloc(0);
  private readonly it: AsyncIterator<Uint8Array>;
  offset = 0;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.it = source[Symbol.asyncIterator]();
  }

  private async fill(): Promise<boolean> {
    const { value, done } = await this.it.next();
    if (done) return false;
    const chunk = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    return true;
  }

  /** Exactly n bytes (n small), or null at a clean end of the stream when n bytes were not started. */
  async exact(n: number, what: string): Promise<Buffer | null> {
    while (this.buf.length < n) {
      if (!(await this.fill())) {
        if (this.buf.length === 0) return null;
        throw invalid(
          `the archive is truncated: it ends inside ${what} at byte ${this.offset + this.buf.length}`,
        );
      }
    }
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    this.offset += n;
    return out;
  }

  /** Streams n bytes to `sink` chunk by chunk (backpressure: the sink's promise is awaited). */
  async pipe(
    n: number,
    what: string,
    sink: (chunk: Buffer) => Promise<void> | void,
  ): Promise<void> {
    let left = n;
    while (left > 0) {
      if (this.buf.length === 0 && !(await this.fill()))
        throw invalid(`the archive is truncated: it ends inside ${what} at byte ${this.offset}`);
      const take = Math.min(left, this.buf.length);
      const chunk = this.buf.subarray(0, take);
      this.buf = this.buf.subarray(take);
      this.offset += take;
      left -= take;
      await sink(chunk);
    }
  }

  async frame(): Promise<{ kind: FrameKind; name: string; length: number } | null> {
    const k = await this.exact(1, 'a frame header');
    if (!k) return null;
    const kind = String.fromCharCode(k[0]);
    if (!KINDS.has(kind))
      throw invalid(
        `unknown frame kind 0x${k[0].toString(16)} at byte ${this.offset - 1}: not a backup, or corrupted`,
      );
    const nameLen = (await this.exact(4, 'a frame header'))!.readUInt32BE(0);
    if (nameLen > MAX_NAME)
      throw invalid(`a frame name of ${nameLen} bytes at byte ${this.offset}: corrupted`);
    const name = (await this.exact(nameLen, 'a frame header'))!.toString('utf8');
    const length = (await this.exact(8, 'a frame header'))!.readBigUInt64BE(0);
    if (length > BigInt(Number.MAX_SAFE_INTEGER))
      throw invalid(`a frame length of ${length} bytes: corrupted`);
    return { kind: kind as FrameKind, name, length: Number(length) };
  }
}
