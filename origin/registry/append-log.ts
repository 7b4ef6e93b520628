/**
 * Append-only log file with group commit: appends that arrive while a write + fdatasync is running
 * are gathered into the next single write + fdatasync, so many concurrent writers share one disk
 * flush. A write is reported durable (its callback runs, its promise resolves) only after fdatasync.
 */
import {
  closeSync,
  fdatasync,
  fsync,
  fsyncSync,
  openSync,
  readFileSync,
  renameSync,
  truncateSync,
  write,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { promisify } from 'node:util';
import { dirname } from 'node:path';
import {
  type DamagedRange,
  decodeFrames,
  decodeLegacyFrames,
  encodeFrame,
  isLegacyLog,
} from './framing.ts';

interface PendingAppend {
  frame: Buffer;
  onDurable: () => void;
  resolve: () => void;
  reject: (e: Error) => void;
}

export interface OpenedLog {
  log: AppendLog;
  payloads: Buffer[];
  /** Bytes dropped from the end of the file (a torn last write, never acknowledged). */
  droppedBytes: number;
  /**
   * Ranges that failed their checksums and were skipped (framing.ts); the records in them are lost
   * here. A damaged tail is cut off and kept beside the log as `<log>.damaged-<time>`.
   */
  damaged: DamagedRange[];
}

export class AppendLog {
  readonly path: string;
  #fd: number;
  #size: number;
  #pending: PendingAppend[] = [];
  #running = false;
  #idle: Promise<void> = Promise.resolve();
  #markIdle: () => void = () => {};
  #broken: Error | null = null;
  #closed = false;
  /** Number of fdatasync calls so far (group commit shows as fewer syncs than appends). */
  syncs = 0;

  private constructor(path: string, fd: number, size: number) {
    this.path = path;
    this.#fd = fd;
    this.#size = size;
  }

  /** The write error that stopped the log (every append fails after it), or null. */
  get broken(): Error | null {
    return this.#broken;
  }

  /**
   * Opens (or creates) the log and returns every valid payload, skipping damaged ranges; a torn or
   * damaged tail is cut off so appends continue after the last valid frame. A log in the earlier
   * framing is rewritten in the current one first.
   */
  static open(path: string): OpenedLog {
    let data: Buffer;
    try {
      data = readFileSync(path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      data = Buffer.alloc(0);
    }
    // The earlier framing cannot resynchronise: what follows its first bad frame is kept aside.
    let legacyDamage: DamagedRange | null = null;
    if (isLegacyLog(data)) {
      const legacy = decodeLegacyFrames(data);
      if (legacy.validBytes < data.length) {
        legacyDamage = { offset: legacy.validBytes, bytes: data.length - legacy.validBytes };
        keepDamaged(path, data.subarray(legacy.validBytes));
      }
      data = rewrite(path, legacy.payloads);
    }
    const { payloads, validBytes, damaged, tornBytes } = decodeFrames(data);
    const tail = damaged.at(-1);
    if (tail && tail.offset + tail.bytes === data.length && tail.offset >= validBytes)
      keepDamaged(path, data.subarray(tail.offset));
    if (legacyDamage) damaged.unshift(legacyDamage);
    const cut = data.length - validBytes;
    if (cut > 0) truncateSync(path, validBytes);
    const fd = openSync(path, 'a');
    if (cut > 0) fsyncSync(fd);
    syncDir(dirname(path));
    return {
      log: new AppendLog(path, fd, validBytes),
      payloads,
      droppedBytes: tornBytes,
      damaged,
    };
  }

  get size(): number {
    return this.#size;
  }

  /** Appends one frame; `onDurable` runs right after the fdatasync that covers it, in log order. */
  append(payload: Uint8Array, onDurable: () => void = () => {}): Promise<void> {
    if (this.#closed) return Promise.reject(new Error('log is closed'));
    if (this.#broken) return Promise.reject(this.#broken);
    return new Promise((resolve, reject) => {
      this.#pending.push({ frame: encodeFrame(payload), onDurable, resolve, reject });
      this.#kick();
    });
  }

  #kick(): void {
    if (this.#running) return;
    this.#running = true;
    this.#idle = new Promise((r) => (this.#markIdle = r));
    void this.#loop();
  }

  async #loop(): Promise<void> {
    try {
      while (this.#pending.length > 0 && !this.#broken) {
        const batch = this.#pending.splice(0);
        const bytes =
          batch.length === 1 ? batch[0].frame : Buffer.concat(batch.map((p) => p.frame));
        try {
          let written = 0;
          while (written < bytes.length) {
            written += await writeAsync(this.#fd, bytes, written, bytes.length - written);
          }
          await fdatasyncAsync(this.#fd);
          this.syncs++;
          this.#size += bytes.length;
        } catch (e) {
          // The file's tail is unknown now: refuse further writes rather than guess.
          this.#broken = e as Error;
          for (const p of batch) p.reject(this.#broken);
          break;
        }
        for (const p of batch) {
          try {
            p.onDurable();
          } finally {
            p.resolve();
          }
        }
      }
      if (this.#broken) for (const p of this.#pending.splice(0)) p.reject(this.#broken);
    } finally {
      this.#running = false;
      this.#markIdle();
      if (this.#pending.length > 0 && !this.#broken) this.#kick();
    }
  }

  /**
   * Replaces the file with `snapshot()` (taken once every durable write has been applied), via a
   * synced temporary file and an atomic rename. Appends that arrive meanwhile wait and land after it.
   */
  async compact(snapshot: () => Uint8Array[]): Promise<void> {
    while (this.#running) await this.#idle;
    this.#running = true;
    this.#idle = new Promise((r) => (this.#markIdle = r));
    try {
      const tmpPath = this.path + '.compact';
      const tmp = openSync(tmpPath, 'w');
      let size = 0;
      try {
        for (const payload of snapshot()) {
          const frame = encodeFrame(payload);
          let written = 0;
          while (written < frame.length)
            written += await writeAsync(tmp, frame, written, frame.length - written);
          size += frame.length;
        }
        await fsyncAsync(tmp);
      } finally {
        closeSync(tmp);
      }
      renameSync(tmpPath, this.path);
      syncDir(dirname(this.path));
      closeSync(this.#fd);
      this.#fd = openSync(this.path, 'a');
      this.#size = size;
    } finally {
      this.#running = false;
      this.#markIdle();
      if (this.#pending.length > 0) this.#kick();
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    while (this.#running) await this.#idle;
    closeSync(this.#fd);
  }
}

const writeAsync = (fd: number, buffer: Buffer, offset: number, length: number): Promise<number> =>
  new Promise((resolve, reject) =>
    write(fd, buffer, offset, length, null, (e, n) => (e ? reject(e) : resolve(n))),
  );
const fdatasyncAsync = promisify(fdatasync);
const fsyncAsync = promisify(fsync);

/** A damaged tail cut off the log is kept beside it (nothing reads it: it is evidence). */
function keepDamaged(path: string, bytes: Buffer): void {
  writeFileSync(`${path}.damaged-${Date.now()}`, bytes);
}

/** Replaces the file at `path` with `payloads` in the current framing (synced, then renamed); returns its bytes. */
function rewrite(path: string, payloads: Buffer[]): Buffer {
  const data = Buffer.concat(payloads.map((p) => encodeFrame(p)));
  const tmpPath = path + '.rewrite';
  const fd = openSync(tmpPath, 'w');
  try {
    let written = 0;
    while (written < data.length) written += writeSync(fd, data, written, data.length - written);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmpPath, path);
  syncDir(dirname(path));
  return data;
}

function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
