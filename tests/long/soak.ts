/**
 * `npm run soak -- --minutes 30`: reconnect storms of tunnel clients plus traffic through a gateway and
 * two super nodes, all processes (soak-run.ts). Exits 1 when a process died, or the RSS of a super
 * node or the gateway grew by more than 5% after the warm-up. Options: --minutes (30),
 * --warmup-minutes (a fifth of the run), --nodes (100: 200 tunnel clients), --concurrency (16),
 * --storm-seconds (10), --heap-snapshots <minutes,...> (heap snapshots of every process at those
 * minutes, into a directory printed at the start, kept). Next to RSS it prints the heap used after a
 * full collection: flat heap with growing RSS is the heap or allocator sizing itself, growing heap a
 * leak.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { useNativeCrypto } from '../../cli/native-crypto.ts';
import { runSoak } from './soak-run.ts';

useNativeCrypto();
const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '30' },
    'warmup-minutes': { type: 'string' },
    nodes: { type: 'string', default: '100' },
    concurrency: { type: 'string', default: '16' },
    'storm-seconds': { type: 'string', default: '10' },
    'heap-snapshots': { type: 'string' },
  },
});
const minutes = Number(values.minutes);
const uptime = () => execFileSync('uptime', { encoding: 'utf8' }).trim();
console.log(
  `soak: ${minutes} min, ${values.nodes} nodes (2 tunnels each), ${values.concurrency} visitors, a storm every ${values['storm-seconds']} s; ${uptime()}`,
);
const snapshotDir = values['heap-snapshots'] && mkdtempSync(join(tmpdir(), 'pc2-soak-heap-'));
if (snapshotDir) console.log(`soak: heap snapshots into ${snapshotDir}`);
const result = await runSoak({
  minutes,
  warmupMinutes: Number(values['warmup-minutes'] ?? minutes / 5),
  nodes: Number(values.nodes),
  concurrency: Number(values.concurrency),
  stormSeconds: Number(values['storm-seconds']),
  maxGrowth: 0.05,
  heapSnapshots: snapshotDir
    ? { atMinutes: values['heap-snapshots']!.split(',').map(Number), dir: snapshotDir }
    : undefined,
  log: (line) => console.log(line),
});
console.log(
  `soak: ${result.seconds.toFixed(0)} s, ${result.requests} requests (${result.failed} failed, ${(result.bytes / 2 ** 20).toFixed(0)} MiB), ${result.storms} reconnect storms, ${result.sessionsStarted} sessions started; ${uptime()}`,
);
const pct = (g: number) => `${g >= 0 ? '+' : ''}${(g * 100).toFixed(1)}%`;
for (const m of result.memory) {
  console.log(
    `  ${m.name.padEnd(13)} RSS after warm-up ${m.afterWarmupMiB.toFixed(1)} MiB, at the end ${m.endMiB.toFixed(1)} MiB (${pct(m.growth)}), peak ${m.peakMiB.toFixed(1)} MiB`,
  );
  if (m.launch)
    console.log(
      `  ${''.padEnd(13)} launched with [${m.launch.execArgv.join(' ')}], heap trim ${m.launch.heapTrim ? 'on' : 'off'}`,
    );
  const h = m.lastHeap;
  if (m.heap && h)
    console.log(
      `  ${''.padEnd(13)} heapUsed after GC ${m.heap.afterWarmupMiB.toFixed(1)} MiB → ${m.heap.endMiB.toFixed(1)} MiB (${pct(m.heap.growth)}); last: external ${h.external.toFixed(1)}, arrayBuffers ${h.arrayBuffers.toFixed(1)}, heapTotal ${h.heapTotal.toFixed(1)} MiB`,
    );
}
console.log(result.ok ? 'soak: ok' : `soak: FAILED${result.allAlive ? '' : ' (a process died)'}`);
process.exit(result.ok ? 0 : 1);
