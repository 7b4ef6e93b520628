/**
 * The fuzzers' smoke run in `npm test`: a few thousand generated and mutated inputs per decoder
 * (`npm run fuzz` runs a million each). No decoder may throw what its contract does not allow.
 */
import { describe, expect, it } from 'vitest';
import { fuzz } from './engine.ts';
import { fuzzTargets } from './targets.ts';

const targets = await fuzzTargets();

describe('fuzz smoke: every network decoder, 3,000 inputs each', () => {
  it.each(targets.map((t) => [t.name, t] as const))('%s never throws', async (_name, target) => {
    const result = await fuzz(target, { inputs: 3000, seed: 12 });
    expect(result.findings).toEqual([]);
    // The seeds still decode: the run exercised the decoder past its first checks.
    expect(result.accepted).toBeGreaterThan(0);
  });
});
