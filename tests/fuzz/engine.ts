/**
 * The fuzz loop, shared by `npm run fuzz` (a million inputs per decoder) and the smoke run in
 * `npm test` (a few thousand): seeds, a seeded mix of them and their mutations, every throw the
 * decoder's contract does not allow recorded with its input, time and memory (RSS) measured.
 */
import { mutateBytes, mutateText, rng } from './mutate.ts';
import { allowedThrow, type FuzzTarget } from './targets.ts';

export interface Finding {
  input: string;
  error: string;
}

export interface FuzzResult {
  name: string;
  inputs: number;
  /** Inputs the decoder accepted (valid after mutation, or a seed as is). */
  accepted: number;
  findings: Finding[];
  ms: number;
  rssStartMiB: number;
  rssPeakMiB: number;
  rssEndMiB: number;
}

const MiB = 1024 * 1024;
const rss = () => process.memoryUsage.rss() / MiB;

const show = (input: Uint8Array | string): string =>
  typeof input === 'string'
    ? JSON.stringify(input.length > 4096 ? input.slice(0, 4096) + '…' : input)
    : Buffer.from(input.subarray(0, 4096)).toString('hex');

export async function fuzz(
  target: FuzzTarget,
  options: { inputs: number; seed: number; gc?: () => void },
): Promise<FuzzResult> {
  const random = rng(options.seed);
  const seeds = target.seeds;
  const pick = () => seeds[Math.floor(random() * seeds.length)];
  options.gc?.();
  const rssStartMiB = rss();
  let rssPeakMiB = rssStartMiB;
  let accepted = 0;
  const findings: Finding[] = [];
  const started = performance.now();
  for (let i = 0; i < options.inputs; i++) {
    const base = pick();
    const input =
      random() < 0.03
        ? base
        : typeof base === 'string'
          ? mutateText(random, base, pick() as string)
          : mutateBytes(random, base, pick() as Uint8Array);
    try {
      if (await target.run(input as never)) accepted++;
    } catch (e) {
      if (!allowedThrow(e) && findings.length < 20)
        findings.push({ input: show(input), error: (e as Error)?.stack ?? String(e) });
    }
    if ((i & 0x3fff) === 0) rssPeakMiB = Math.max(rssPeakMiB, rss());
  }
  const ms = performance.now() - started;
  options.gc?.();
  const rssEndMiB = rss();
  return {
    name: target.name,
    inputs: options.inputs,
    accepted,
    findings,
    ms,
    rssStartMiB,
    rssPeakMiB: Math.max(rssPeakMiB, rssEndMiB),
    rssEndMiB,
  };
}
