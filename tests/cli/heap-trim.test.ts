/**
 * cli/heap-trim.ts on this platform (Linux, glibc, the pinned Node.js): malloc_trim is reached, and
 * the pages of buffers freed between live ones (holes free() alone never returns) go back to the
 * system when it runs.
 */
import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { startHeapTrim } from '../../cli/heap-trim.ts';
import { silentLogger } from '../../shared/logger.ts';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const rssMiB = () =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]) / 1024;

describe('heap trim', () => {
  it('returns the free pages between live buffers to the system', async () => {
    const trimmer = await startHeapTrim(silentLogger, 3_600_000);
    expect(trimmer).not.toBeNull();
    try {
      // 100 MiB in 60 KiB buffers (below glibc's mmap threshold: from its heap), a small live
      // buffer after each, so that the freed ones are holes and not the top of the heap.
      let freed: Buffer[] | null = [];
      const live: Buffer[] = [];
      for (let i = 0; i < 1700; i++) {
        freed.push(Buffer.allocUnsafe(60_000).fill(1));
        live.push(Buffer.allocUnsafe(5_000).fill(2));
      }
      freed = null;
      gc();
      gc();
      const before = rssMiB();
      expect(trimmer!.trim()).toBe(true);
      const after = rssMiB();
      expect(before - after).toBeGreaterThan(50);
      expect(live.length).toBe(1700);
    } finally {
      trimmer?.stop();
    }
  });
});
