/**
 * `npm run bench:entry`: what the node's entry (agent/entry.ts, the agent's HTTP hop in front of the
 * app, on every request since it logs requests and answers for a down app) costs. wrk against a
 * small app directly, and against the entry in front of it, alternating, in one run. Prints a
 * Markdown table and the ratio.
 */
import { loadavg } from 'node:os';
import { NodeEntry } from '../agent/entry.ts';
import { RequestLog } from '../agent/request-log.ts';
import { startUpstream } from './edge-processes.ts';
import { runWrk, type WrkResult } from './wrk.ts';

const SECONDS = Number(process.env.BENCH_DURATION_S ?? 8);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const BODY = Number(process.env.BENCH_BODY_BYTES ?? 1024);

const app = await startUpstream(BODY);
const entry = new NodeEntry({
  upstream: new URL(`http://127.0.0.1:${app.port}`),
  hostHeader: 'visitor',
  log: new RequestLog(),
});
const entryPort = await entry.listen('127.0.0.1', 0, 'bench');
const targets = { app: `http://127.0.0.1:${app.port}/`, entry: `http://127.0.0.1:${entryPort}/` };
const results: Record<string, WrkResult[]> = { app: [], entry: [] };
try {
  for (const url of Object.values(targets))
    await runWrk({ url, seconds: 2, connections: CONNECTIONS });
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 ? (['entry', 'app'] as const) : (['app', 'entry'] as const);
    for (const name of order)
      results[name].push(
        await runWrk({ url: targets[name], seconds: SECONDS, connections: CONNECTIONS }),
      );
  }
} finally {
  await entry.close();
  await app.stop();
}
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
console.log(
  `\n${ROUNDS} rounds of ${SECONDS} s, wrk -t1 -c${CONNECTIONS}, ${BODY}-byte responses; load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}\n`,
);
console.log('| path | requests/s | p50 ms | p99 ms |\n|---|---|---|---|');
for (const [name, rs] of Object.entries(results))
  console.log(
    `| ${name === 'app' ? 'wrk → app' : 'wrk → entry → app'} | ${mean(rs.map((r) => r.rps)).toFixed(0)} | ${mean(rs.map((r) => r.p50Ms)).toFixed(2)} | ${mean(rs.map((r) => r.p99Ms)).toFixed(2)} |`,
  );
console.log(
  `\nentry / app requests/s: ${(mean(results.entry.map((r) => r.rps)) / mean(results.app.map((r) => r.rps))).toFixed(2)}`,
);
