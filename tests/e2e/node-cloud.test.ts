/**
 * `pc2 node` with no --upstream serves the personal cloud (a real process behind real super nodes
 * and a gateway): its data beside the identity key, the one-time owner code printed while the node
 * has no owner and claimed through the relay, nothing printed once owned; then `pc2 cloud backup`
 * and `restore` of that data directory, a truncated archive refused without a trace.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { siweMessage, wallet } from '../cloud/helpers.ts';
import { runCli } from '../helpers/cli.ts';
import { type GatewayNetwork, startGatewayNetwork } from '../helpers/gateway-network.ts';
import { type KeyFile, keyFile, pc2, type Proc, tempDir } from '../helpers/processes.ts';

let net: GatewayNetwork;
let dir: string;
let key: KeyFile;
let node: Proc | undefined;
const owner = wallet(0xc0ffee);

const startNode = () =>
  pc2([
    'node',
    '--name',
    'carol',
    ...net.superNodes.flatMap((n) => ['--supernode', n.url]),
    '--key',
    key.path,
    '--mode',
    'relay',
    '--inspector',
    'off',
    // The test's gateway is not on the port the super nodes announce (8080): its origin too.
    '--cloud-origin',
    `http://carol.localhost:${net.gatewayPort}`,
  ]);

/** A request to carol through the gateway (and the relay). */
async function carol(
  path: string,
  init: { method?: 'GET' | 'POST'; body?: unknown } = {},
): Promise<{ status: number; json: any }> {
  const origin = `http://carol.localhost:${net.gatewayPort}`;
  const res = await request(`http://127.0.0.1:${net.gatewayPort}${path}`, {
    method: init.method ?? 'GET',
    headers: {
      host: new URL(origin).host,
      origin,
      ...(init.body ? { 'content-type': 'application/json' } : {}),
    },
    body: init.body ? JSON.stringify(init.body) : undefined,
  });
  const text = await res.body.text();
  return { status: res.statusCode, json: text.startsWith('{') ? JSON.parse(text) : text };
}

async function signIn(ownerCode?: string): Promise<{ status: number; json: any }> {
  const nonce = (await carol('/api/auth/nonce')).json;
  const message = siweMessage(owner, nonce);
  return carol('/api/auth/signin', {
    method: 'POST',
    body: { message, signature: owner.signMessage(message), ownerCode },
  });
}

beforeAll(async () => {
  net = await startGatewayNetwork();
  dir = tempDir('pc2-node-cloud-');
  key = await keyFile(dir, 'carol');
}, 60_000);

afterAll(async () => {
  await node?.kill('SIGKILL');
  await net?.close();
});

describe('pc2 node serves the personal cloud by default', () => {
  it('prints the owner code while unclaimed; the code claims it through the relay', {
    timeout: 90_000,
  }, async () => {
    node = startNode();
    const [, code, url] = await node.waitFor(
      /owner code (\S+): sign in at (\S+) with your wallet/,
      60_000,
    );
    expect(url).toBe('http://carol.localhost:8080');
    await node.waitFor(/"state":"online"[^\n]*tunnel=up[^\n]*tunnel=up/, 60_000);
    expect(existsSync(join(dir, 'cloud', 'cloud.db'))).toBe(true);
    const node1 = await carol('/api/node');
    expect(node1).toMatchObject({
      status: 200,
      json: { origin: `http://carol.localhost:${net.gatewayPort}`, claimed: false },
    });
    expect(await signIn()).toMatchObject({
      status: 403,
      json: { error: { code: 'OWNER_CODE_REQUIRED' } },
    });
    expect(await signIn(code)).toMatchObject({ status: 200, json: { role: 'owner' } });
    expect((await carol('/api/node')).json.claimed).toBe(true);
    await node.kill('SIGTERM');
    expect(node.child.exitCode).toBe(0);

    node = startNode();
    await node.waitFor(/"state":"online"[^\n]*tunnel=up[^\n]*tunnel=up/, 60_000);
    await expect.poll(async () => (await signIn()).status, { timeout: 10_000 }).toBe(200);
    expect(node.output()).not.toContain('owner code');
    // The running node holds its data directory: an offline backup is refused, not torn.
    const busy = await runCli(['cloud', 'backup', '--key', key.path, '--out', join(dir, 'x.pc2')]);
    expect(busy.code).toBe(1);
    expect(busy.stderr).toMatch(/pc2 cloud backup: /);
    await node.kill('SIGTERM');
  });

  it('pc2 cloud backup and restore the data directory; a truncated archive changes nothing', {
    timeout: 60_000,
  }, async () => {
    const archive = join(dir, 'carol.pc2');
    const backup = await runCli(['cloud', 'backup', '--key', key.path, '--out', archive]);
    expect(backup, backup.stderr).toMatchObject({ code: 0 });
    const fresh = join(dir, 'fresh');
    const restored = await runCli(['cloud', 'restore', '--cloud-dir', fresh, '--in', archive]);
    expect(restored, restored.stderr).toMatchObject({ code: 0 });
    expect(restored.stderr).toMatch(/restored 1 wallets/);
    expect(existsSync(join(fresh, 'cloud.db'))).toBe(true);
    const again = await runCli(['cloud', 'restore', '--cloud-dir', fresh, '--in', archive]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already holds wallets/);

    const bytes = readFileSync(archive);
    writeFileSync(join(dir, 'cut.pc2'), bytes.subarray(0, Math.floor(bytes.length / 2)));
    const other = join(dir, 'other');
    const cut = await runCli([
      'cloud',
      'restore',
      '--cloud-dir',
      other,
      '--in',
      join(dir, 'cut.pc2'),
    ]);
    expect(cut.code).toBe(1);
    expect(existsSync(join(other, 'cloud.db'))).toBe(false);
    expect((await runCli(['cloud', 'restore', '--cloud-dir', other])).code).toBe(2);
    expect((await runCli(['cloud', 'nope'])).code).toBe(2);
  });
});
