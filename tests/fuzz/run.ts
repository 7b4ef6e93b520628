/**
 * `npm run fuzz`: every network decoder fed generated and mutated inputs (default 1,000,000 each),
 * seeded so a finding replays. Prints one line per decoder: inputs, accepted, findings, time, and
 * memory (RSS after a GC at the start and the end, and the peak in between). Exits 1 on a finding
 * (each printed with its input) or when RSS ever passes 512 MiB (a decoder that holds on to what it
 * read grows with the inputs; these stay flat after their first thousands).
 * Options: --inputs N, --seed S, --only name[,name].
 */
import { parseArgs } from 'node:util';
import { useNativeCrypto } from '../../cli/native-crypto.ts';
import { fuzz } from './engine.ts';
import { fuzzTargets } from './targets.ts';

// As every pc2 process (cli/native-crypto.ts): libsodium when it loads.
useNativeCrypto();
const { values } = parseArgs({
  options: {
    inputs: { type: 'string', default: '1000000' },
    seed: { type: 'string', default: '1' },
    only: { type: 'string' },
  },
});
const MAX_RSS_MIB = 512;
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) console.warn('fuzz: run with --expose-gc (npm run fuzz does) for RSS after GC');
const only = values.only?.split(',');
const targets = (await fuzzTargets()).filter((t) => !only || only.includes(t.name));
const inputs = Number(values.inputs);
let failed = false;
console.log(
  `fuzz: ${inputs.toLocaleString('en')} inputs per decoder, seed ${values.seed}, Node.js ${process.version}`,
);
for (const target of targets) {
  const r = await fuzz(target, { inputs, seed: Number(values.seed), gc });
  console.log(
    `${r.name.padEnd(14)} ${r.inputs.toLocaleString('en')} inputs, ${r.accepted.toLocaleString('en')} accepted, ` +
      `${r.findings.length} findings, ${(r.ms / 1000).toFixed(1)} s (${Math.round((r.inputs / r.ms) * 1000).toLocaleString('en')}/s); ` +
      `RSS ${r.rssStartMiB.toFixed(0)} -> peak ${r.rssPeakMiB.toFixed(0)} -> ${r.rssEndMiB.toFixed(0)} MiB  [${target.what}]`,
  );
  for (const f of r.findings) console.log(`  FINDING ${f.error}\n  input: ${f.input}`);
  if (r.findings.length || r.rssPeakMiB > MAX_RSS_MIB) failed = true;
}
process.exit(failed ? 1 : 0);
