/**
 * Open-loop latency, paired: each path gets one request every 1/rate s whatever the answers do, the
 * paths' requests interleaved at even offsets, so a pause of the whole machine hits them alike and
 * the difference between them is each path's own. Used where a figure is "latency added at a load".
 */
import { type Dispatcher, request } from 'undici';

export interface LoadPath {
  url: string;
  headers: () => Record<string, string>;
}

export interface PathLatency {
  requests: number;
  errors: number;
  p50: number;
  p99: number;
  /** The slowest answer, ms. */
  max: number;
}

export const percentile = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

export async function latencies(
  paths: LoadPath[],
  rate: number,
  seconds: number,
  dispatcher: Dispatcher,
): Promise<PathLatency[]> {
  const samples: number[][] = paths.map(() => []);
  const errors = paths.map(() => 0);
  const total = rate * seconds;
  const interval = 1000 / rate;
  const started = performance.now();
  const inflight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    for (let k = 0; k < paths.length; k++) {
      const due = started + i * interval + (k * interval) / paths.length;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
      const t = performance.now();
      inflight.push(
        request(paths[k].url, { headers: paths[k].headers(), dispatcher })
          .then(async (res) => {
            await res.body.text();
            if (res.statusCode >= 400) errors[k]++;
            else samples[k].push(performance.now() - t);
          })
          .catch(() => void errors[k]++),
      );
    }
  }
  await Promise.all(inflight);
  return samples.map((list, k) => {
    list.sort((x, y) => x - y);
    return {
      requests: list.length,
      errors: errors[k],
      p50: percentile(list, 50),
      p99: percentile(list, 99),
      max: list.length ? list[list.length - 1] : NaN,
    };
  });
}
