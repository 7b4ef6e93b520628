/**
 * A private name's certificate on the node, against Debian's pebble and a real super node answering
 * the zone's DNS: ordered by DNS-01 with a challenge the node's key signed, stored 0600, renewed at two
 * thirds of its lifetime and swapped into the running terminator (new handshakes get the new one);
 * with the CA gone a renewal fails, is retried with backoff, and the certificate in use stays.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RegistryClient } from '../../agent/registry-client.ts';
import { NodeTls } from '../../agent/tls/node-tls.ts';
import { acmeOrder } from '../../cli/node-tls-flags.ts';
import { SuperNode } from '../../origin/supernode.ts';
import { KeyPair } from '../../shared/keys.ts';
import type { Logger } from '../../shared/logger.ts';
import { type Pebble, startPebble } from '../helpers/pebble.ts';
import { tempDir } from '../helpers/processes.ts';
import {
  reserveDnsPort,
  TEST_ZONE as ZONE,
  toolsSupported,
  until,
} from '../helpers/zone-network.ts';

const support = toolsSupported(['pebble', 'openssl']);
const VALIDITY_S = 15;

/** A new TLS connection to the terminator: the serial of the certificate it showed, and the reply. */
function handshake(port: number, root: string): Promise<{ serial: string; reply: string }> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect(
      { host: '127.0.0.1', port, servername: `carol.${ZONE}`, ca: root },
      () => {
        const serial = socket.getPeerCertificate().serialNumber;
        socket.write(`GET / HTTP/1.1\r\nhost: carol.${ZONE}\r\nconnection: close\r\n\r\n`);
        let reply = '';
        socket.on('data', (d) => (reply += d));
        socket.on('end', () => resolve({ serial, reply }));
      },
    );
    socket.on('error', reject);
  });
}

describe.skipIf(!support.ok)('the node certificate of a private name (pebble)', () => {
  const dir = tempDir('pc2-node-tls-');
  const logs: string[] = [];
  const logger: Logger = {
    debug: () => {},
    info: (m, f) => logs.push(`${m} ${JSON.stringify(f ?? {})}`),
    warn: (m, f) => logs.push(`${m} ${JSON.stringify(f ?? {})}`),
    error: (m, f) => logs.push(`${m} ${JSON.stringify(f ?? {})}`),
  };
  const node = KeyPair.generate();
  let superNode: SuperNode;
  let pebble: Pebble;
  let app: Server;
  let nodeTls: NodeTls;

  beforeAll(async () => {
    const dnsPort = await reserveDnsPort();
    superNode = new SuperNode({
      key: KeyPair.generate(),
      dataDir: join(dir, 'sn'),
      zone: ZONE,
      edgeKeys: [],
      host: '127.0.0.1',
      apiPort: 0,
      tunnelPort: 0,
      developerMode: true,
      rateLimits: false,
      dht: false,
      zoneDns: { dns: { host: '127.0.0.1', port: dnsPort }, ttlS: 5, rateLimit: false },
    });
    const { apiUrl } = await superNode.start();
    await new RegistryClient({ url: apiUrl, key: node }).claim('carol');
    pebble = await startPebble({
      dir,
      dnsServer: `127.0.0.1:${dnsPort}`,
      validitySeconds: VALIDITY_S,
    });
    app = createServer((_req, res) => res.end('hello from carol\n'));
    await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
    nodeTls = new NodeTls(
      {
        order: acmeOrder(pebble.listenerCaFile),
        directoryUrl: pebble.directory,
        termsOfServiceAgreed: true,
        dir: join(dir, 'tls'),
        retryMinMs: 1_000,
        retryMaxMs: 2_000,
      },
      { key: node, logger, now: () => Date.now() },
    );
    await nodeTls.start({
      name: 'carol',
      zone: ZONE,
      superNodes: [apiUrl],
      upstream: { host: '127.0.0.1', port: (app.address() as AddressInfo).port },
    });
  }, 60_000);

  afterAll(async () => {
    await nodeTls?.stop();
    app?.close();
    await pebble?.stop();
    await superNode?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('orders, serves, renews at 2/3 of the lifetime without a restart, and keeps serving while the CA is down', async () => {
    const root = await pebble.issuingRoot();
    const port = nodeTls.tunnelTarget.port;
    const file = join(dir, 'tls', 'certificate.pem');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'tls', 'acme-account.key')).mode & 0o777).toBe(0o600);
    const first = await handshake(port, root);
    expect(first.reply).toContain('hello from carol');
    const leaf = new X509Certificate(
      readFileSync(file, 'utf8').match(
        /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/,
      )![0],
    );
    expect(leaf.subjectAltName).toBe(`DNS:carol.${ZONE}`);
    expect(logs.join('\n')).toMatch(/node certificate issued \{"host":"carol\.ela\.test"/);

    // Renewed at 2/3 of 15 s: a new handshake on the same listener gets another certificate.
    const renewed = await until(
      () => handshake(port, root),
      (r) => !!r && r.serial !== first.serial,
      VALIDITY_S * 1000,
      250,
    );
    expect(renewed.serial).not.toBe(first.serial);
    expect(renewed.reply).toContain('hello from carol');
    expect(nodeTls.status().expires).toBe(
      Date.parse(
        new X509Certificate(
          readFileSync(file, 'utf8').match(
            /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/,
          )![0],
        ).validTo,
      ),
    );

    await pebble.stop();
    const failures = () =>
      logs.filter((l) => l.startsWith('node certificate: renewal failed')).length;
    await until(
      async () => failures(),
      (n) => n >= 2,
      VALIDITY_S * 1000,
      250,
    );
    expect(failures()).toBeGreaterThanOrEqual(2);
    expect(logs.find((l) => l.startsWith('node certificate: renewal failed'))).toMatch(
      /"nextTry":"[^"]+","currentExpires":"[^"]+"/,
    );
    const during = await handshake(port, root);
    expect(during.serial).toBe(renewed.serial);
  }, 60_000);
});

describe.runIf(!support.ok)('node certificate tests unavailable', () => {
  it('says why they were skipped', () => {
    expect(support.why).toBeTruthy();
  });
});
