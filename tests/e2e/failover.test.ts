import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ProcessNetwork, startProcessNetwork } from '../helpers/process-network.ts';

let net: ProcessNetwork;
beforeAll(async () => {
  net = await startProcessNetwork();
}, 120_000);
afterAll(() => net?.close());

describe('failover between super node processes', () => {
  it('serves alice through the gateway while both super nodes run', async () => {
    const res = await net.get('/');
    expect(res.status).toBe(200);
    expect(res.body).toContain('hello from alice');
  });

  it('keeps serving after kill -9 of the primary, via the secondary, and the primary rejoins', async () => {
    const results: { at: number; ok: boolean }[] = [];
    let running = true;
    const loop = (async () => {
      while (running) {
        const at = Date.now();
        const ok = await net.get('/', 3000).then(
          (r) => r.status === 200 && r.body.includes('hello from alice'),
          () => false,
        );
        results.push({ at, ok });
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    await new Promise((r) => setTimeout(r, 500));
    const killedAt = Date.now();
    await net.primary.proc.kill('SIGKILL');
    // Requests keep flowing; wait for a stretch of successes after the kill.
    await expect
      .poll(() => results.filter((r) => r.at > killedAt && r.ok).length, {
        timeout: 30_000,
        interval: 200,
      })
      .toBeGreaterThanOrEqual(10);
    running = false;
    await loop;
    const firstOk = results.find((r) => r.at > killedAt && r.ok)!;
    console.log(
      `failover: first success ${firstOk.at - killedAt} ms after kill -9 of the primary; ${results.filter((r) => r.at > killedAt && !r.ok).length} failed requests after the kill`,
    );
    expect(results.filter((r) => r.at < killedAt).every((r) => r.ok)).toBe(true);

    await net.startSuperNode(net.primary);
    await net.node.waitFor(
      new RegExp(
        `"state":"online"[^\\n]*127\\.0\\.0\\.1:${net.primary.apiPort} registry=\\w+ tunnel=up`,
      ),
      90_000,
    );
    const res = await net.get('/');
    expect(res.status).toBe(200);
  });
});
