/**
 * Private names end to end, on processes: two super nodes answering DNS for the zone and holding its
 * certificate from Debian's pebble, a gateway with that certificate, and `pc2 node --tls` nodes that
 * order their own certificates from pebble (DNS-01, challenge published with their own key). curl,
 * trusting pebble's root, sees each private node's own certificate through the gateway, relayed and
 * direct; the bytes on the super nodes' sockets never hold the body's marker, while for a public
 * name (the control) they do.
 */
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Pebble } from '../helpers/pebble.ts';
import { type KeyFile, keyFile, type Proc, pc2, reservePort } from '../helpers/processes.ts';
import { startTap, type Tap } from '../helpers/tap.ts';
import {
  startAcmeZoneNetwork,
  TEST_ZONE as ZONE,
  toolsSupported,
  until,
  type ZoneNetwork,
} from '../helpers/zone-network.ts';

const run = promisify(execFile);
const support = toolsSupported(['pebble', 'openssl', 'curl']);
const MARKER = 'pc2-private-marker-3d1f9a';

/** curl through the gateway with pebble's root: the body and the certificate name it matched. */
async function curl(
  name: string,
  port: number,
  caFile: string,
  headers: string[] = [],
): Promise<{ body: string; matched: string }> {
  const host = `${name}.${ZONE}`;
  const { stdout, stderr } = await run(
    'curl',
    [
      '-sv',
      '--max-time',
      '10',
      '--cacert',
      caFile,
      '--resolve',
      `${host}:${port}:127.0.0.1`,
      ...headers.flatMap((h) => ['-H', h]),
      `https://${host}:${port}/`,
    ],
    { timeout: 15_000 },
  );
  const matched = /matched cert's "([^"]+)"/.exec(stderr)?.[1] ?? `(no match line)\n${stderr}`;
  return { body: stdout, matched };
}

describe.skipIf(!support.ok)(
  'private names: the node terminates TLS, the zone passes it through',
  () => {
    let net: ZoneNetwork;
    let pebble: Pebble;
    let upstream: Server;
    let taps: Tap[] = [];
    const procs: Proc[] = [];
    let gatewayPort: number;
    let rootFile: string;

    beforeAll(async () => {
      let edge: KeyFile;
      ({ net, pebble, edge } = await startAcmeZoneNetwork({ ttl: 5, validitySeconds: 3600 }));
      const certFile = join(net.dir, net.nodes[0].name, 'acme', 'certificate.pem');
      await net.nodes[0].proc.waitFor(/zone certificate (issued|installed)/, 60_000);
      upstream = createServer((req, res) =>
        res
          .writeHead(200, { 'content-type': 'text/plain' })
          .end(`hello ${req.headers.host} ${MARKER}\n`),
      );
      await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
      const upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;
      // The gateway reaches each super node's API and ingress through a tap that records the bytes.
      taps = await Promise.all(net.nodes.map((n) => startTap(n.apiPort)));
      gatewayPort = await reservePort();
      const gateway = pc2([
        'gateway',
        '--zone',
        ZONE,
        ...net.nodes.flatMap((n, i) => [
          '--registrar',
          n.key.key.id.toString(),
          '--supernode',
          `${n.key.key.id}@${taps[i].url}`,
        ]),
        '--edge-key-file',
        edge.path,
        '--host',
        '127.0.0.1',
        '--https-port',
        String(gatewayPort),
        '--http-port',
        String(await reservePort()),
        '--cert',
        certFile,
        '--cert-key',
        certFile,
        '--developer-mode',
      ]);
      procs.push(gateway);
      await gateway.waitFor(/gateway for \*\.ela\.test/, 60_000);
      const acme = [
        '--acme-directory',
        pebble.directory,
        '--acme-ca-file',
        pebble.listenerCaFile,
        '--acme-agree-tos',
      ];
      const node = async (name: string, extra: string[]) => {
        const proc = pc2([
          'node',
          '--name',
          name,
          ...net.nodes.flatMap((n) => ['--supernode', n.url]),
          '--upstream',
          upstreamUrl,
          '--key',
          (await keyFile(net.dir, name)).path,
          ...extra,
        ]);
        procs.push(proc);
        return proc;
      };
      const tlsPort = await reservePort();
      const nodes = [
        await node('alice', [
          '--mode',
          'relay',
          '--tls',
          '--tls-dir',
          join(net.dir, 'alice-tls'),
          ...acme,
        ]),
        await node('dora', [
          '--mode',
          'direct',
          '--public-url',
          `https://127.0.0.1:${tlsPort}`,
          '--tls',
          '--tls-listen',
          `127.0.0.1:${tlsPort}`,
          '--tls-dir',
          join(net.dir, 'dora-tls'),
          ...acme,
        ]),
        await node('bob', ['--mode', 'relay']),
      ];
      await Promise.all(nodes.map((p) => p.waitFor(/"state":"online"/, 90_000)));
      rootFile = join(net.dir, 'pebble-root.pem');
      writeFileSync(rootFile, await pebble.issuingRoot());
    }, 180_000);

    afterAll(async () => {
      await Promise.all(procs.map((p) => p.kill('SIGKILL')));
      await Promise.all(taps.map((t) => t.close()));
      upstream?.close();
      await pebble?.stop();
      await net?.close();
    });

    it("curl sees each private node's own certificate through the gateway, relayed and direct; the marker never crosses a super node", async () => {
      for (const name of ['alice', 'dora']) {
        // The gateway's route cache may still hold a record from before the node went online.
        const seen = await until(
          () => curl(name, gatewayPort, rootFile),
          (r) => r?.body.includes(MARKER),
          20_000,
          500,
        );
        expect(seen.body, name).toContain(`hello ${name}.${ZONE}:${gatewayPort} ${MARKER}`);
        expect(seen.matched, name).toBe(`${name}.${ZONE}`);
      }
      const carried = Buffer.concat(taps.map((t) => t.bytes()));
      // alice's connection did cross a super node, as a raw TLS channel...
      expect(carried.includes('pc2-tls/1')).toBe(true);
      // ...and nothing of its plaintext did.
      expect(carried.includes(MARKER)).toBe(false);
      const agents = procs
        .slice(1)
        .map((p) => p.output())
        .join('\n');
      expect(agents).toMatch(/node certificate issued \{"host":"alice\.ela\.test"/);
      expect(agents).toMatch(/node certificate issued \{"host":"dora\.ela\.test"/);
    }, 90_000);

    it("drops a visitor's own X-Forwarded-* on the node (no gateway set them): the app sees the real Host", async () => {
      const seen = await curl('alice', gatewayPort, rootFile, ['X-Forwarded-Host: evil.example']);
      expect(seen.body).toContain(`hello alice.${ZONE}:${gatewayPort} ${MARKER}`);
    }, 30_000);

    it('a public name (the control) is served with the zone certificate, and its plaintext does cross the super node', async () => {
      const seen = await curl('bob', gatewayPort, rootFile);
      expect(seen.body).toContain(MARKER);
      expect(seen.matched).toBe(`*.${ZONE}`);
      const carried = Buffer.concat(taps.map((t) => t.bytes()));
      expect(carried.includes(MARKER)).toBe(true);
    }, 30_000);
  },
);

describe.runIf(!support.ok)('private name tests unavailable', () => {
  it('says why they were skipped', () => {
    expect(support.why).toBeTruthy();
  });
});
