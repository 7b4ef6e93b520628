/**
 * Reads what a WebAssembly module declares before anything runs it: its imports, memories and
 * exports, straight from the binary's sections (no compilation). A run is refused when the module
 * imports anything but WASI preview 1 functions, has no `_start`, or when a memory has no declared
 * maximum or one above the run's limit (the engine then enforces that maximum on every grow).
 */
import { CloudError } from '../errors.ts';

export const WASI_MODULES = new Set(['wasi_snapshot_preview1', 'wasi_unstable']);
const PAGE = 65536;

export interface ModuleShape {
  /** Declared maximum bytes of every memory, summed. */
  maxMemoryBytes: number;
  exports: string[];
}

class Reader {
  pos = 0;
  constructor(
    readonly bytes: Uint8Array,
    readonly end = bytes.length,
  ) {}
  byte(): number {
    if (this.pos >= this.end)
      throw new CloudError('INVALID_MODULE', 'the module ends inside a section');
    return this.bytes[this.pos++];
  }
  /** An unsigned LEB128 of at most 64 bits, as a number (exact up to 2^53). */
  uleb(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      const b = this.byte();
      result += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) return result;
      scale *= 128;
    }
    throw new CloudError('INVALID_MODULE', 'malformed LEB128 number');
  }
  name(): string {
    const n = this.uleb();
    if (this.pos + n > this.end)
      throw new CloudError('INVALID_MODULE', 'a name runs past its section');
    const s = new TextDecoder().decode(this.bytes.subarray(this.pos, this.pos + n));
    this.pos += n;
    return s;
  }
  limits(what: string): { min: number; max: number | undefined } {
    const flags = this.byte();
    if (flags & ~0x07) throw new CloudError('INVALID_MODULE', `unknown ${what} limits`);
    if (flags & 0x04) throw new CloudError('INVALID_MODULE', `64-bit ${what}s are not supported`);
    if (flags & 0x02)
      throw new CloudError('INVALID_MODULE', `shared ${what}s (threads) are not supported`);
    const min = this.uleb();
    return { min, max: flags & 0x01 ? this.uleb() : undefined };
  }
}

function memoryBytes(limits: { max: number | undefined }, limit: number): number {
  if (limits.max === undefined) {
    throw new CloudError(
      'MEMORY_LIMIT',
      `the module's memory has no declared maximum; runs need one of at most ${limit} bytes (e.g. link with --max-memory=${limit})`,
    );
  }
  return limits.max * PAGE;
}

/** Checks a module against the run's memory limit (bytes); throws INVALID_MODULE or MEMORY_LIMIT. */
export function checkModule(bytes: Uint8Array, memoryLimit: number): ModuleShape {
  if (
    bytes.length < 8 ||
    bytes[0] !== 0 ||
    bytes[1] !== 0x61 ||
    bytes[2] !== 0x73 ||
    bytes[3] !== 0x6d
  ) {
    throw new CloudError('INVALID_MODULE', 'not a WebAssembly module (no \\0asm header)');
  }
  if (bytes[4] !== 1 || bytes[5] !== 0 || bytes[6] !== 0 || bytes[7] !== 0) {
    throw new CloudError(
      'INVALID_MODULE',
      'only WebAssembly binary version 1 modules run (components are not supported)',
    );
  }
  const r = new Reader(bytes);
  r.pos = 8;
  let maxMemory = 0;
  let memories = 0;
  const exports: string[] = [];
  while (r.pos < bytes.length) {
    const id = r.byte();
    const size = r.uleb();
    const end = r.pos + size;
    if (end > bytes.length)
      throw new CloudError('INVALID_MODULE', 'a section runs past the end of the module');
    const s = new Reader(bytes, end);
    s.pos = r.pos;
    if (id === 2) {
      for (let n = s.uleb(); n > 0; n--) {
        const module = s.name();
        const field = s.name();
        const kind = s.byte();
        if (!WASI_MODULES.has(module) || kind !== 0) {
          throw new CloudError(
            'INVALID_MODULE',
            `the module imports "${module}.${field}": only WASI preview 1 functions are provided`,
          );
        }
        s.uleb();
      }
    } else if (id === 5) {
      for (let n = s.uleb(); n > 0; n--) {
        memories++;
        maxMemory += memoryBytes(s.limits('memory'), memoryLimit);
      }
    } else if (id === 7) {
      for (let n = s.uleb(); n > 0; n--) {
        const name = s.name();
        s.byte();
        s.uleb();
        exports.push(name);
      }
    }
    r.pos = end;
  }
  if (memories > 0 && maxMemory > memoryLimit) {
    throw new CloudError(
      'MEMORY_LIMIT',
      `the module may grow its memory to ${maxMemory} bytes; this run allows ${memoryLimit}`,
    );
  }
  if (!exports.includes('_start'))
    throw new CloudError(
      'INVALID_MODULE',
      'the module exports no _start: build it as a WASI command',
    );
  return { maxMemoryBytes: maxMemory, exports };
}
