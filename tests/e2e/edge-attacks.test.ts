/**
 * The gateway under the attacks an outsider made against it, as processes: a `pc2 supernode` (not in
 * developer mode), `pc2 gateway` and the Deno edge (`deno run edge/runtime/deno.ts`).
 *
 * - SSRF by name: bob publishes a direct endpoint whose host name resolves to 127.0.0.1, where an
 *   internal service listens. The registry accepts the name (it is no address); the gateways must not
 *   connect to it. The gateways see their own /etc/hosts (unshare, helpers/hosts-namespace.ts), as a
 *   name an attacker points at 127.0.0.1 would resolve.
 * - Two Host headers: 400, not the first one served.
 * - The port-80 redirect: only names of the zone, never the Host the request named.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../agent/registry-client.ts';
import { makeCertificate } from '../edge/certs.ts';
import { rawExchange } from '../edge/raw.ts';
import { PC2 } from '../helpers/cli.ts';
import { hostsNamespace, withHosts } from '../helpers/hosts-namespace.ts';
import {
  type KeyFile,
  keyFile,
  type Proc,
  pc2,
  reservePort,
  startProcess,
  tempDir,
} from '../helpers/processes.ts';
import {
  gatewayArgs as gatewayCliArgs,
  type SuperNodeProc,
  startSuperNodeProc,
  superNodeProcs,
} from '../helpers/supernode-procs.ts';

const DENO = fileURLToPath(new URL('../../node_modules/.bin/deno', import.meta.url));
const INSIDE = 'inside.example.com';

let dir: string;
let sn: SuperNodeProc;
let edge: KeyFile;
let internal: Server;
let internalPort: number;
const procs: Proc[] = [];

const gatewayArgs = (port: number, extra: string[] = []) =>
  gatewayCliArgs([sn], edge.path, port, extra);

beforeAll(async () => {
  dir = tempDir('pc2-edge-attacks-');
  edge = await keyFile(dir, 'edge');
  internal = createServer((_req, res) => res.end('internal secret\n'));
  await new Promise<void>((r) => internal.listen(0, '127.0.0.1', r));
  internalPort = (internal.address() as AddressInfo).port;
  [sn] = await superNodeProcs(dir, ['sn'], { edgeKeys: [edge.key.id.toString()] });
  procs.push(await startSuperNodeProc(sn));
  // bob's direct endpoint: a name (the registry takes it), resolving to the internal service.
  const bob = new RegistryClient({ url: sn.url, key: (await keyFile(dir, 'bob')).key });
  await bob.claim('bob');
  await bob.publishRoute({
    name: 'bob',
    mode: 'direct',
    endpoint: `http://${INSIDE}:${internalPort}`,
  });
}, 90_000);

afterAll(async () => {
  await Promise.all(procs.map((p) => p.kill('SIGKILL')));
  internal?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** GET through a gateway listening on `port`, for `name`.localhost. */
async function visit(port: number, name: string): Promise<{ status: number; body: string }> {
  const text = await rawExchange(
    `http://127.0.0.1:${port}`,
    `GET / HTTP/1.1\r\nHost: ${name}.localhost:${port}\r\nConnection: close\r\n\r\n`,
  );
  return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), body: text };
}

describe('SSRF by host name (connect-time checks)', () => {
  it.skipIf(!hostsNamespace)(
    'the Node.js gateway refuses a direct endpoint whose name resolves to loopback',
    async () => {
      const port = await reservePort();
      const gateway = startProcess(PC2, gatewayArgs(port), {
        prefix: withHosts(dir, { [INSIDE]: '127.0.0.1' }),
      });
      procs.push(gateway);
      await gateway.waitFor(/gateway for \*\.localhost/, 60_000);
      const res = await visit(port, 'bob');
      expect(res.body).not.toContain('internal secret');
      expect(res.status).toBe(503);
      expect(res.body).toContain('offline');
      // The control: the name does resolve there, and a gateway in developer mode (loopback
      // admitted, as devnet's) reaches the service, so the refusal above is the check's.
      const devPort = await reservePort();
      const dev = startProcess(PC2, gatewayArgs(devPort), {
        prefix: withHosts(dir, { [INSIDE]: '127.0.0.1' }),
        env: { PC2_DEVELOPER_MODE: 'true' },
      });
      procs.push(dev);
      await dev.waitFor(/gateway for \*\.localhost/, 60_000);
      expect((await visit(devPort, 'bob')).body).toContain('internal secret');
    },
    90_000,
  );

  it.skipIf(!hostsNamespace)(
    'the Deno edge refuses it too',
    async () => {
      const denoEdge = async (env: Record<string, string> = {}) => {
        const port = await reservePort();
        const deno = startProcess(DENO, ['run', '--allow-all', '--quiet', 'edge/runtime/deno.ts'], {
          prefix: withHosts(dir, { [INSIDE]: '127.0.0.1' }),
          env: {
            DENO_NO_UPDATE_CHECK: '1',
            PC2_EDGE_ZONE: 'localhost',
            PC2_EDGE_REGISTRAR_KEYS: sn.key.key.id.toString(),
            PC2_EDGE_KEY: edge.key.bosonPrivateKeyBase58(),
            PC2_EDGE_SUPER_NODES: `${sn.key.key.id}=${sn.url}`,
            PC2_EDGE_HOSTNAME: '127.0.0.1',
            PC2_EDGE_PORT: String(port),
            ...env,
          },
        });
        procs.push(deno);
        await deno.waitFor(/pc2 edge listening/, 60_000);
        return port;
      };
      const res = await visit(await denoEdge(), 'bob');
      expect(res.body).not.toContain('internal secret');
      expect(res.status).toBe(503);
      // The control, as for Node.js.
      const dev = await denoEdge({ PC2_EDGE_DEVELOPER_MODE: 'true' });
      expect((await visit(dev, 'bob')).body).toContain('internal secret');
    },
    90_000,
  );
});

describe('Host headers and the port-80 redirect', () => {
  let plainPort: number;
  let httpsPort: number;
  let redirectPort: number;

  beforeAll(async () => {
    plainPort = await reservePort();
    const plain = pc2(gatewayArgs(plainPort));
    procs.push(plain);
    httpsPort = await reservePort();
    redirectPort = await reservePort();
    const cert = makeCertificate(dir, 'gateway');
    const tls = pc2([
      ...gatewayArgs(redirectPort),
      '--https-port',
      String(httpsPort),
      '--cert',
      cert.certFile,
      '--cert-key',
      cert.keyFile,
    ]);
    procs.push(tls);
    await Promise.all([
      plain.waitFor(/gateway for \*\.localhost/, 60_000),
      tls.waitFor(/gateway for \*\.localhost/, 60_000),
    ]);
  }, 90_000);

  it('answers 400 to a request with two Host headers', async () => {
    const answer = await rawExchange(
      `http://127.0.0.1:${plainPort}`,
      `GET / HTTP/1.1\r\nHost: bob.localhost\r\nHost: evil.example\r\nConnection: close\r\n\r\n`,
    );
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
  });

  it('redirects names of the zone to https, and nothing else', async () => {
    const redirect = (host: string) =>
      rawExchange(
        `http://127.0.0.1:${redirectPort}`,
        `GET /path?q=1 HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
      );
    expect(await redirect('bob.localhost')).toMatch(
      new RegExp(
        `^HTTP/1\\.1 308 [^]*\\r\\nlocation: https://bob\\.localhost:${httpsPort}/path\\?q=1\\r\\n`,
        'i',
      ),
    );
    expect(await redirect('localhost')).toMatch(/^HTTP\/1\.1 308 /);
    for (const host of ['evil.com', 'evil.com:80', 'a.b.localhost', 'x--y.localhost.evil.com']) {
      const answer = await redirect(host);
      expect(answer, host).toMatch(/^HTTP\/1\.1 400 /);
      expect(answer).not.toMatch(/location:/i);
    }
    expect(
      await rawExchange(
        `http://127.0.0.1:${redirectPort}`,
        `GET / HTTP/1.1\r\nHost: bob.localhost\r\nHost: evil.com\r\nConnection: close\r\n\r\n`,
      ),
    ).toMatch(/^HTTP\/1\.1 400 /);
  });
});
