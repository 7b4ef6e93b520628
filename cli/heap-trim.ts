/**
 * Gives the pages glibc's malloc holds free back to the system, every few seconds, in the long-running
 * servers (`pc2 supernode`, `pc2 gateway`). Relayed bytes arrive in Node.js's 64 KiB socket read
 * buffers, allocated and freed by the thousand a second; after a burst of traffic glibc keeps the
 * freed ones in its main heap (only its top is ever returned by free() itself), so a super node that
 * took traffic once stays 15-20 MiB larger for good. glibc's malloc_trim(0) returns every free
 * page inside the heap too: in the soak, a secondary super node went from 132 back to 116 MiB, its
 * level before the burst (docs/benchmarks.md, "Fuzzing and soak"). It is reached through node:ffi
 * (experimental in Node.js 26, whose exact version the project pins); where that or malloc_trim is
 * missing (Deno, musl, macOS) nothing is done.
 */
import type { Logger } from '../shared/logger.ts';

/** How often free heap pages are returned. Cheap: a walk of the free lists, a few ms at most. */
export const HEAP_TRIM_INTERVAL_MS = 10_000;

export interface HeapTrimmer {
  /** Returns free heap pages now; true when some were returned. */
  trim(): boolean;
  stop(): void;
}

type MallocTrim = (pad: bigint) => number;

async function loadMallocTrim(): Promise<MallocTrim | null> {
  // Node.js warns on loading node:ffi; our own log line says what it is used for instead.
  const emitWarning = process.emitWarning;
  process.emitWarning = () => {};
  try {
    const ffi = await import('node:ffi');
    const { functions } = ffi.dlopen(null, {
      malloc_trim: { arguments: ['uint64'], return: 'int32' },
    });
    return functions.malloc_trim as MallocTrim;
  } catch {
    return null;
  } finally {
    process.emitWarning = emitWarning;
  }
}

/** Starts trimming every `intervalMs` (an unref'd timer); null where malloc_trim cannot be reached. */
export async function startHeapTrim(
  logger: Logger,
  intervalMs = HEAP_TRIM_INTERVAL_MS,
): Promise<HeapTrimmer | null> {
  const mallocTrim = await loadMallocTrim();
  if (!mallocTrim) {
    logger.debug('heap trim: glibc malloc_trim not reachable (no node:ffi or not glibc)');
    return null;
  }
  const trim = () => mallocTrim(0n) === 1;
  const timer = setInterval(trim, intervalMs);
  timer.unref();
  logger.info('heap trim: free heap pages go back to the system', { everyMs: intervalMs });
  return { trim, stop: () => clearInterval(timer) };
}
