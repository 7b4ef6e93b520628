/** Plain counters of the registry's signed writes, read by the metrics at scrape time. */
import type { WriteOp } from './write-ops.ts';

export class WriteCounters {
  /** `<action> <outcome>` -> count; outcome is `ok` or a RegistryError code (a bounded set). */
  readonly #counts = new Map<string, number>();

  count(action: WriteOp['action'], outcome: string): void {
    const key = `${action} ${outcome}`;
    this.#counts.set(key, (this.#counts.get(key) ?? 0) + 1);
  }

  /** Every (action, outcome) seen so far with its count. */
  entries(): { action: string; outcome: string; count: number }[] {
    return [...this.#counts].map(([key, count]) => {
      const [action, outcome] = key.split(' ');
      return { action, outcome, count };
    });
  }
}
