/**
 * `npm run bench:failover`: the network as processes (two super nodes, gateway, alice behind the
 * relay). Each run kill -9s the primary, then requests alice through the gateway every 10 ms and
 * records how long until the first success (which can only come via the secondary); then restarts
 * the primary and waits until alice's tunnel to it is back. Reports p50/p95 over the runs.
 * Options: --runs N (default 20).
 */
import { parseArgs } from 'node:util';
import { type ProcessNetwork, startProcessNetwork } from '../tests/helpers/process-network.ts';
import { machine, percentile, writeSection } from './report.ts';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '20' },
    'no-write': { type: 'boolean', default: false },
  },
});
const runs = Number(values.runs);

async function firstSuccessAfterKill(
  net: ProcessNetwork,
): Promise<{ ms: number; exitMs: number; failures: number }> {
  const ok = await net.get('/');
  if (ok.status !== 200) throw new Error(`alice not served before the kill: ${ok.status}`);
  const killedAt = performance.now();
  await net.primary.proc.kill('SIGKILL');
  const exitMs = performance.now() - killedAt;
  let failures = 0;
  for (;;) {
    const res = await net.get('/', 3000).catch(() => null);
    if (res?.status === 200 && res.body.includes('hello from alice'))
      return { ms: performance.now() - killedAt, exitMs, failures };
    failures++;
    if (performance.now() - killedAt > 60_000) throw new Error('no success within 60 s');
    await new Promise((r) => setTimeout(r, 10));
  }
}

const net = await startProcessNetwork();
const times: number[] = [];
let failed = 0;
try {
  for (let i = 0; i < runs; i++) {
    const { ms, exitMs, failures } = await firstSuccessAfterKill(net);
    times.push(ms);
    failed += failures;
    process.stdout.write(
      `run ${i + 1}/${runs}: first success ${ms.toFixed(1)} ms after kill -9 (process gone after ${exitMs.toFixed(1)} ms; ${failures} failed before)\n`,
    );
    await net.startSuperNode(net.primary);
    await net.node.waitFor(
      new RegExp(
        `"state":"online"[^\\n]*127\\.0\\.0\\.1:${net.primary.apiPort} registry=\\w+ tunnel=up[^\\n]*\\n(?![\\s\\S]*127\\.0\\.0\\.1:${net.primary.apiPort} registry=\\w+ tunnel=(?!up))`,
      ),
      120_000,
    );
  }
} finally {
  await net.close();
}
times.sort((a, b) => a - b);
const summary = `p50 ${percentile(times, 50).toFixed(1)} ms, p95 ${percentile(times, 95).toFixed(1)} ms, max ${times.at(-1)!.toFixed(1)} ms over ${runs} runs; ${failed} requests failed in all runs together`;
console.log(summary);
if (!values['no-write']) {
  writeSection(
    'Failover',
    `Command: \`npm run bench:failover -- --runs ${runs}\` (${machine()}).

Two \`pc2 supernode\` processes, a \`pc2 gateway\` and \`pc2 node\` (alice, relay mode, tunnels to both)
on loopback. Each run: \`kill -9\` the primary, then GET alice through the gateway every 10 ms until one
succeeds (it can only be served via the secondary); then restart the primary and wait until alice's
tunnel to it is back up before the next run.

| metric | value |
|---|---|
| time from kill -9 to the first success, p50 | ${percentile(times, 50).toFixed(1)} ms |
| p95 | ${percentile(times, 95).toFixed(1)} ms |
| max | ${times.at(-1)!.toFixed(1)} ms |
| requests that failed after a kill (all runs) | ${failed} |

Target: p50 at most 2 s. The edge fails over within the request: the cached route lists both super
nodes, the dead primary refuses the connection at once, and the same request goes to the secondary.`,
  );
}
