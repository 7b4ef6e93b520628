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
} from 'node:fs';
import { promisify } from 'node:util';
import { dirname } from 'node:path';
import { decodeFrames, encodeFrame } from './framing.ts';

interface PendingAppend {
  frame: Buffer;
  onDurable: () => void;
  resolve: () => void;
  reject: (e: Error) => void;
}

export interface OpenedLog {
  log: AppendLog;
  payloads: Buffer[];
  /** Bytes dropped from the end of the file (a torn last write). */
  droppedBytes: number;
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

  /** Opens (or creates) the log, returns every valid payload and truncates a torn tail. */
  static open(path: string): OpenedLog {
    let data: Buffer;
    try {
      data = readFileSync(path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      data = Buffer.alloc(0);
    }
    const { payloads, validBytes } = decodeFrames(data);
    const droppedBytes = data.length - validBytes;
    if (droppedBytes > 0) truncateSync(path, validBytes);
    const fd = openSync(path, 'a');
    if (droppedBytes > 0) fsyncSync(fd);
    syncDir(dirname(path));
    return { log: new AppendLog(path, fd, validBytes), payloads, droppedBytes };
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

function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
