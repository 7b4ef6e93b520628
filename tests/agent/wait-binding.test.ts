import { describe, expect, it } from 'vitest';
import { RegistryClient } from '../../agent/registry-client.ts';
import { waitForBinding } from '../../agent/supernode-api.ts';
import { KeyPair } from '../../shared/keys.ts';
import { reservePort } from '../helpers/ports.ts';

describe('waitForBinding', () => {
  // A stopped agent's super nodes are often gone too: the wait must end with the agent, not poll a
  // refused port until its deadline and keep the process alive (pc2 devnet on Ctrl-C).
  it('ends as soon as its signal aborts, while the super node refuses connections', async () => {
    const key = KeyPair.generate();
    const registry = new RegistryClient({ url: `http://127.0.0.1:${await reservePort()}`, key });
    const stopping = new AbortController();
    let settled = false;
    const waiting = waitForBinding(registry, 'alice', key.id, 60_000, stopping.signal).finally(
      () => (settled = true),
    );
    await new Promise((r) => setTimeout(r, 500));
    expect(settled).toBe(false);
    stopping.abort();
    await expect(waiting).resolves.toBeUndefined();
  });
});
