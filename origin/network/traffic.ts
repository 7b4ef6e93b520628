/**
 * The traffic a super node relayed over the last hour (1-minute buckets) and day (15-minute buckets),
 * for the network map. It samples cumulative counters the parts already keep (tunnel bytes, request
 * counts) every `sampleMs`, so nothing is added to the data path; memory is bounded by the two
 * windows (61 + 97 buckets of four numbers). The buckets are written to a file now and then and read
 * back at start, so a restart does not blank the plots.
 */
import { readFileSync } from 'node:fs';
import {
  SERIES_FIELDS,
  type SeriesField,
  type TrafficSeries,
} from '../../shared/records/network.ts';
import { writeFileAtomic } from '../zone/atomic-file.ts';

export type TrafficCounters = Record<SeriesField, number>;

interface Bucket {
  start: number;
  seconds: number;
  values: TrafficCounters;
}

interface Resolution {
  stepS: number;
  keep: number;
  buckets: Bucket[];
}

export interface TrafficHistoryOptions {
  /** Cumulative counters since start (they only grow). */
  read: () => TrafficCounters;
  /** Where the buckets are kept across restarts; none: memory only. */
  file?: string;
  /** Default 10 000 ms. */
  sampleMs?: number;
  /** Default 300 000 ms. */
  saveMs?: number;
  now?: () => number;
}

const zero = (): TrafficCounters => ({
  bytesToNodes: 0,
  bytesFromNodes: 0,
  relayRequests: 0,
  apiRequests: 0,
});

export class TrafficHistory {
  readonly #o: Required<Omit<TrafficHistoryOptions, 'file'>> & { file?: string };
  readonly #hour: Resolution = { stepS: 60, keep: 60, buckets: [] };
  readonly #day: Resolution = { stepS: 900, keep: 96, buckets: [] };
  #last: TrafficCounters = zero();
  #lastAt = 0;
  #timers: ReturnType<typeof setInterval>[] = [];

  constructor(options: TrafficHistoryOptions) {
    this.#o = { sampleMs: 10_000, saveMs: 300_000, now: Date.now, ...options };
  }

  start(): void {
    this.#load();
    this.#last = this.#o.read();
    this.#lastAt = this.#o.now();
    const sample = setInterval(() => this.sample(), this.#o.sampleMs);
    this.#timers.push(sample);
    if (this.#o.file) this.#timers.push(setInterval(() => void this.save(), this.#o.saveMs));
    for (const t of this.#timers) t.unref?.();
  }

  async stop(): Promise<void> {
    for (const t of this.#timers) clearInterval(t);
    this.#timers = [];
    this.sample();
    await this.save();
  }

  /** Adds what the counters grew by since the last sample to the current buckets. */
  sample(): void {
    const now = this.#o.now();
    const current = this.#o.read();
    const seconds = Math.max(0, (now - this.#lastAt) / 1000);
    const delta = zero();
    // A counter that went down (a part restarted) adds nothing rather than a negative spike.
    for (const f of SERIES_FIELDS) delta[f] = Math.max(0, current[f] - this.#last[f]);
    // The bucket of the interval's last instant: a sample on a minute's boundary closes that minute.
    const at = now - 1;
    this.#last = current;
    this.#lastAt = now;
    for (const r of [this.#hour, this.#day]) add(r, at, seconds, delta);
  }

  /** Both windows, newest bucket (still filling) included. */
  snapshot(): { hour: TrafficSeries; day: TrafficSeries } {
    this.sample();
    return { hour: series(this.#hour), day: series(this.#day) };
  }

  async save(): Promise<void> {
    if (!this.#o.file) return;
    const data = { v: 1, hour: this.#hour.buckets, day: this.#day.buckets };
    await writeFileAtomic(this.#o.file, JSON.stringify(data), 0o600).catch(() => {});
  }

  #load(): void {
    if (!this.#o.file) return;
    let data: { v?: number; hour?: unknown; day?: unknown };
    try {
      data = JSON.parse(readFileSync(this.#o.file, 'utf8'));
    } catch {
      return; // none yet, or unreadable: start empty
    }
    const now = this.#o.now();
    for (const [r, saved] of [
      [this.#hour, data.hour],
      [this.#day, data.day],
    ] as const) {
      if (!Array.isArray(saved)) continue;
      r.buckets = saved.filter((b) => validBucket(b, r.stepS)).slice(-(r.keep + 1));
      prune(r, now);
    }
  }
}

function validBucket(b: unknown, stepS: number): b is Bucket {
  const x = b as Bucket;
  return (
    !!x &&
    Number.isSafeInteger(x.start) &&
    x.start % stepS === 0 &&
    Number.isFinite(x.seconds) &&
    x.seconds >= 0 &&
    !!x.values &&
    SERIES_FIELDS.every((f) => Number.isFinite(x.values[f]) && x.values[f] >= 0)
  );
}

function add(r: Resolution, now: number, seconds: number, delta: TrafficCounters): void {
  const start = Math.floor(now / 1000 / r.stepS) * r.stepS;
  let bucket = r.buckets.at(-1);
  if (!bucket || bucket.start !== start) {
    if (bucket && bucket.start > start) return; // the clock went back: keep what is there
    bucket = { start, seconds: 0, values: zero() };
    r.buckets.push(bucket);
    prune(r, now);
  }
  bucket.seconds = Math.min(r.stepS, bucket.seconds + seconds);
  for (const f of SERIES_FIELDS) bucket.values[f] += delta[f];
}

function prune(r: Resolution, now: number): void {
  const oldest = Math.floor(now / 1000 / r.stepS) * r.stepS - r.keep * r.stepS;
  while (r.buckets.length && r.buckets[0].start < oldest) r.buckets.shift();
}

function series(r: Resolution): TrafficSeries {
  const out: TrafficSeries = {
    stepS: r.stepS,
    t: [],
    seconds: [],
    bytesToNodes: [],
    bytesFromNodes: [],
    relayRequests: [],
    apiRequests: [],
  };
  for (const b of r.buckets) {
    out.t.push(b.start);
    out.seconds.push(Math.round(b.seconds * 1000) / 1000);
    for (const f of SERIES_FIELDS) out[f].push(b.values[f]);
  }
  return out;
}
