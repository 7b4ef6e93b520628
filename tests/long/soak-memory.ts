/**
 * The soak's memory samples of one process: RSS from /proc every few seconds, and through the
 * process's inspector the heap used after a full collection every few minutes. The bound is on RSS
 * (what an operator's VPS pays for); heapUsed after GC is printed next to it because it tells the
 * two causes of RSS growth apart: live objects that pile up (a leak: heapUsed grows too) or a heap
 * and an allocator that keep more pages than the live objects need (heapUsed flat).
 */
import { readFileSync } from 'node:fs';
import type { HeapAfterGc, Inspector } from './soak-inspector.ts';

export interface ProcessMemory {
  name: string;
  /** Mean RSS (MiB) of the first and last fifth of the samples after warm-up, and the peak. */
  afterWarmupMiB: number;
  endMiB: number;
  peakMiB: number;
  growth: number;
  /** The same for heapUsed after a full collection (null: no inspector samples). */
  heap: { afterWarmupMiB: number; endMiB: number; growth: number } | null;
  /** The last heap sample (MiB): heapUsed, external, arrayBuffers after GC. */
  lastHeap: HeapAfterGc | null;
  /** How the launcher started the process (cli/pc2.js): its Node.js flags. */
  launch: LaunchSettings | null;
}

export interface LaunchSettings {
  execArgv: string[];
  /** The process said it returns free heap pages (cli/heap-trim.ts). */
  heapTrim: boolean;
}

const rssMiB = (pid: number) =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

export class MemorySamples {
  readonly rss: { at: number; mib: number }[] = [];
  readonly heap: { at: number; mib: number; full: HeapAfterGc }[] = [];
  launch: LaunchSettings | null = null;

  constructor(
    readonly name: string,
    readonly pid: number,
    readonly inspector: Inspector | null,
  ) {}

  sampleRss(): void {
    try {
      this.rss.push({ at: Date.now(), mib: rssMiB(this.pid) });
    } catch {
      // the process is gone: reported by the caller
    }
  }

  async readLaunch(output: string): Promise<void> {
    const execArgv = await this.inspector?.evaluate<string[]>('process.execArgv');
    this.launch = execArgv ? { execArgv, heapTrim: output.includes('heap trim: free heap') } : null;
  }

  async sampleHeap(): Promise<void> {
    if (!this.inspector) return;
    try {
      const full = await this.inspector.heapAfterGc();
      this.heap.push({ at: Date.now(), mib: full.heapUsed, full });
    } catch {
      // the process is gone or busy past its end: reported by the caller
    }
  }

  summary(warmEnd: number): ProcessMemory {
    const rss = growthOf(this.rss, warmEnd);
    const heap = this.heap.length ? growthOf(this.heap, warmEnd) : null;
    return {
      name: this.name,
      ...rss,
      peakMiB: Math.max(...this.rss.map((s) => s.mib)),
      heap,
      lastHeap: this.heap.at(-1)?.full ?? null,
      launch: this.launch,
    };
  }
}

/** The mean of the first fifth of the samples after warm-up against the mean of the last fifth. */
function growthOf(samples: { at: number; mib: number }[], warmEnd: number) {
  const after = samples.filter((s) => s.at >= warmEnd);
  const use = after.length >= 5 ? after : samples;
  const fifth = Math.max(1, Math.floor(use.length / 5));
  const mean = (xs: { mib: number }[]) => xs.reduce((n, s) => n + s.mib, 0) / xs.length;
  const first = mean(use.slice(0, fifth));
  const last = mean(use.slice(-fifth));
  return { afterWarmupMiB: first, endMiB: last, growth: last / first - 1 };
}
