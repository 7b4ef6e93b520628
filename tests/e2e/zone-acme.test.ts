import { X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Pebble, startPebble } from '../helpers/pebble.ts';
import { keyFile, type Proc, pc2, reservePort } from '../helpers/processes.ts';
import { startUpstream } from '../helpers/upstream.ts';
import {
  startZoneNetwork,
  TEST_ZONE as ZONE,
  toolsSupported,
  until,
  type ZoneNetwork,
} from '../helpers/zone-network.ts';

const support = toolsSupported(['pebble', 'openssl']);
// Renewal at 24 s leaves 12 s before expiry: more than the gateway's 5 s poll, even on a loaded machine.
const VALIDITY_S = 36;

function certOn(
  net: ZoneNetwork,
  i: number,
): { serial: string; names: string; mode: number; notAfter: number } | null {
  const file = join(net.dir, net.nodes[i].name, 'acme', 'certificate.pem');
  try {
    const pem = readFileSync(file, 'utf8');
    const leaf = new X509Certificate(
      pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/)![0],
    );
    return {
      serial: leaf.serialNumber,
      names: leaf.subjectAltName ?? '',
      mode: statSync(file).mode & 0o777,
      notAfter: Date.parse(leaf.validTo),
    };
  } catch {
    return null;
  }
}

/** One HTTPS request on a new connection, verified against `root`: the status and the serial of the certificate the gateway showed. */
function get(
  port: number,
  root: string,
): Promise<{ status: number; serial: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port,
        path: '/',
        servername: `alice.${ZONE}`,
        headers: { host: `alice.${ZONE}:${port}` },
        ca: root,
        agent: false,
        timeout: 5000,
      },
      (res) => {
        const serial = (res.socket as import('node:tls').TLSSocket).getPeerCertificate()
          .serialNumber;
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, serial, body }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

describe.skipIf(!support.ok)(
  'the zone certificate from pebble (ACME DNS-01 through the zone), on super node processes',
  () => {
    let net: ZoneNetwork;
    let pebble: Pebble;
    const procs: Proc[] = [];
    let edge: Awaited<ReturnType<typeof keyFile>>;
    let upstream: Awaited<ReturnType<typeof startUpstream>>;

    beforeAll(async () => {
      // pebble must know sn1's DNS port before the super nodes order: the network's ports come first.
      net = await startZoneNetwork({
        ttl: 5,
        extra: () => [
          '--acme',
          '--acme-agree-tos',
          '--acme-directory',
          'PEBBLE',
          '--acme-ca-file',
          'PEBBLE_CA',
          '--acme-retry',
          '1',
          '--edge-key',
          'EDGE',
        ],
        deferStart: true,
      });
      pebble = await startPebble({
        dir: net.dir,
        dnsServer: `127.0.0.1:${net.nodes[0].dnsPort}`,
        validitySeconds: VALIDITY_S,
      });
      edge = await keyFile(net.dir, 'edge');
      for (const n of net.nodes) {
        n.args = n.args.map((a) =>
          a === 'PEBBLE'
            ? pebble.directory
            : a === 'PEBBLE_CA'
              ? pebble.listenerCaFile
              : a === 'EDGE'
                ? edge.key.id.toString()
                : a,
        );
      }
      await Promise.all(net.nodes.map((n) => net.start(n)));
      upstream = await startUpstream('alice');
    }, 120_000);
    afterAll(async () => {
      await Promise.all(procs.map((p) => p.kill('SIGKILL')));
      await pebble?.stop();
      await upstream?.close();
      await net?.close();
    });

    it('issues one certificate for *.zone and the zone, ordered by one super node and installed on both, files 0600', async () => {
      const both = await until(
        async () => [certOn(net, 0), certOn(net, 1)],
        ([a, b]) => !!a && !!b && a.serial === b.serial,
        60_000,
      );
      const [a, b] = both;
      expect(a?.serial).toBe(b?.serial);
      expect(a?.names).toBe(`DNS:${ZONE}, DNS:*.${ZONE}`);
      expect(a?.mode).toBe(0o600);
      expect(b?.mode).toBe(0o600);
      const ordered = net.nodes.filter((n) => n.proc.output().includes('zone certificate issued'));
      const installed = net.nodes.filter((n) =>
        n.proc.output().includes('zone certificate installed'),
      );
      expect(ordered).toHaveLength(1);
      expect(installed).toHaveLength(1);
      expect(
        statSync(join(net.dir, ordered[0].name, 'acme', 'acme-account.key')).mode & 0o777,
      ).toBe(0o600);
    }, 90_000);

    it('renews at two thirds of the lifetime while a gateway with 2 workers serves alice over TLS: every request succeeds, and the new certificate is served', async () => {
      const [sn1, sn2] = net.nodes;
      const httpsPort = await reservePort();
      const certFile = join(net.dir, sn2.name, 'acme', 'certificate.pem');
      const gateway = pc2([
        'gateway',
        '--zone',
        ZONE,
        ...net.nodes.flatMap((n) => [
          '--registrar',
          n.key.key.id.toString(),
          '--supernode',
          `${n.key.key.id}@${n.url}`,
        ]),
        '--edge-key-file',
        edge.path,
        '--host',
        '127.0.0.1',
        '--https-port',
        String(httpsPort),
        '--http-port',
        String(await reservePort()),
        '--cert',
        certFile,
        '--cert-key',
        certFile,
        '--workers',
        '2',
      ]);
      procs.push(gateway);
      await gateway.waitFor(/gateway for \*\.ela\.test/, 60_000);
      const node = pc2([
        'node',
        '--name',
        'alice',
        '--supernode',
        sn1.url,
        '--supernode',
        sn2.url,
        '--upstream',
        upstream.url,
        '--key',
        (await keyFile(net.dir, 'alice')).path,
        '--mode',
        'relay',
      ]);
      procs.push(node);
      await node.waitFor(/"state":"online"/, 60_000);
      const root = await pebble.issuingRoot();
      const first = certOn(net, 1)!;
      const results: { ok: boolean; serial: string; error?: string }[] = [];
      let running = true;
      const loop = (async () => {
        while (running) {
          const r = await get(httpsPort, root).then(
            (res) => ({
              ok: res.status === 200 && res.body.includes('hello from alice'),
              serial: res.serial,
              error: String(res.status),
            }),
            (e: Error) => ({ ok: false, serial: '', error: e.message }),
          );
          results.push(r);
          await new Promise((res) => setTimeout(res, 50));
        }
      })();
      // until several requests in a row (spread over both workers) got a certificate issued after the first one
      const renewed = (s: string | undefined) =>
        !!s && s.toUpperCase() !== first.serial.toUpperCase();
      await until(
        async () => results.slice(-6),
        (last) => last.length === 6 && last.every((r) => renewed(r.serial)),
        (VALIDITY_S + 20) * 1000,
        250,
      );
      running = false;
      await loop;
      const failed = results.filter((r) => !r.ok);
      const serials = [...new Set(results.map((r) => r.serial))];
      console.log(
        `zone certificate renewal under traffic: ${results.length} requests, ${failed.length} failed, certificates seen: ${serials.join(' -> ')}`,
      );
      expect(failed).toEqual([]);
      expect(serials.length).toBeGreaterThanOrEqual(2);
      expect(results.slice(-6).every((r) => renewed(r.serial))).toBe(true);
      expect(gateway.output()).not.toMatch(/certificate.*(failed|error)/i);
      expect(certOn(net, 0)?.serial).toBe(certOn(net, 1)?.serial);
    }, 120_000);

    it('keeps the old certificate while the CA is unreachable, logs the next try and the expiry, and renews once it is back', async () => {
      await pebble.stop();
      const before = [certOn(net, 0)!, certOn(net, 1)!];
      const orderer = net.nodes.find((n) => n.proc.output().includes('zone certificate issued'))!;
      const failure =
        /order failed; keeping the current certificate \{"error":"the ACME directory [^"]+ is unreachable: ECONNREFUSED","nextTry":"[^"]+","currentExpires":"[^"]+"\}/;
      await orderer.proc.waitFor(failure, (VALIDITY_S + 10) * 1000);
      expect([certOn(net, 0)?.serial, certOn(net, 1)?.serial]).toEqual([
        before[0].serial,
        before[1].serial,
      ]);
      // a second failure, later: the retry backs off rather than giving up
      const count = () => orderer.proc.output().match(new RegExp(failure, 'g'))?.length ?? 0;
      expect(
        await until(
          async () => count(),
          (c) => c >= 2,
          10_000,
        ),
      ).toBeGreaterThanOrEqual(2);
      await pebble.start();
      const after = await until(
        async () => [certOn(net, 0), certOn(net, 1)],
        ([a, b]) => !!a && !!b && a.serial === b.serial && a.serial !== before[0].serial,
        60_000,
      );
      expect(after[0]?.serial).not.toBe(before[0].serial);
      expect(after[0]?.serial).toBe(after[1]?.serial);
    }, 120_000);
  },
);

describe.runIf(!support.ok)('ACME tests unavailable', () => {
  it('says why they were skipped', () => {
    expect(support.why).toBeTruthy();
  });
});
