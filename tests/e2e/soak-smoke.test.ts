/**
 * The soak's smoke run in `npm test` (`npm run soak -- --minutes 30` is the real one): the same
 * processes, crowd of tunnel clients, reconnect storms and visitors, for a quarter of a minute. It
 * checks that everything survives and serves; memory over so short a run says nothing, so only the
 * long run judges RSS. It does check that the super nodes and the gateway run with what keeps their
 * memory from following their load (docs/benchmarks.md, the soak): the young generation capped by
 * the launcher (cli/pc2.js) and free heap pages returned (cli/heap-trim.ts).
 */
import { describe, expect, it } from 'vitest';
import { runSoak } from '../long/soak-run.ts';

describe('soak (smoke)', () => {
  it('serves through reconnect storms; every process survives', async () => {
    const result = await runSoak({
      minutes: 0.25,
      warmupMinutes: 0.05,
      nodes: 8,
      concurrency: 4,
      stormSeconds: 3,
      maxGrowth: Number.POSITIVE_INFINITY,
    });
    expect(result.allAlive).toBe(true);
    expect(result.storms).toBeGreaterThanOrEqual(3);
    // Each storm restarts half the nodes' tunnels: more sessions than nodes x super nodes.
    expect(result.sessionsStarted).toBeGreaterThan(16);
    expect(result.requests).toBeGreaterThan(100);
    expect(result.failed / result.requests).toBeLessThan(0.2);
    expect(result.memory.map((m) => m.name)).toEqual(['super node 1', 'super node 2', 'gateway']);
    for (const m of result.memory) {
      expect(m.launch?.execArgv).toContain('--max-semi-space-size=4');
      expect(m.launch?.heapTrim).toBe(true);
    }
  }, 120_000);
});
