/** Counts by a pair of labels from bounded sets, read by the metrics at scrape time. */

export class PairCounts {
  /** `<first> <second>` -> count. */
  readonly #counts = new Map<string, number>();

  count(first: string, second: string): void {
    const key = `${first} ${second}`;
    this.#counts.set(key, (this.#counts.get(key) ?? 0) + 1);
  }

  /** Every pair seen so far with its count. */
  entries(): [first: string, second: string, count: number][] {
    return [...this.#counts].map(([key, count]) => {
      const space = key.indexOf(' ');
      return [key.slice(0, space), key.slice(space + 1), count];
    });
  }
}

/** The registry's signed writes by action and outcome (`ok` or a RegistryError code). */
export class WriteCounters extends PairCounts {}
