/**
 * Private names on the Node.js gateway: a connection whose SNI names a node that terminates TLS
 * itself is spliced untouched to the node's TLS port (direct) or through a relay's real ingress and
 * tunnel (relayed); the client sees the node's certificate; the gateway's TLS server never gets the
 * connection and the ingress parses no HTTP of it. Every other name is terminated by the gateway,
 * and a private name reached over another name's connection gets 421.
 */
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TunnelClient } from '../../../../agent/tunnel/index.ts';
import { createIngress, type Ingress } from '../../../../origin/ingress/index.ts';
import type { TunnelServer } from '../../../../origin/tunnel/index.ts';
import { type Gateway, startGateway } from '../../../../edge/runtime/node/server.ts';
import { KeyPair } from '../../../../shared/keys.ts';
import { registryPaths, type ResolveResponse } from '../../../../shared/records/api.ts';
import { signBinding } from '../../../../shared/records/binding.ts';
import { signRoute } from '../../../../shared/records/route.ts';
import { makeCertificate } from '../../certs.ts';
import { close, DirectNode, listen } from '../../origins.ts';
import { authenticated, newClient, startServer } from '../../../tunnel/harness.ts';

const MARKER = 'marker-only-the-node-and-the-client-see';

interface Seen {
  fingerprint: string;
  body: string;
}

/** One HTTP/1.1 request over TLS to the gateway's port with `servername` as SNI. */
function fetchOver(port: number, servername: string | undefined, host: string): Promise<Seen> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect(
      {
        host: '127.0.0.1',
        port,
        servername,
        rejectUnauthorized: false,
        ALPNProtocols: ['http/1.1'],
      },
      () => {
        const fingerprint = socket.getPeerCertificate().fingerprint256;
        socket.write(`GET / HTTP/1.1\r\nhost: ${host}\r\nconnection: close\r\n\r\n`);
        let body = '';
        socket.on('data', (d) => (body += d.toString()));
        socket.on('end', () => resolve({ fingerprint, body }));
      },
    );
    socket.on('error', reject);
  });
}

function fingerprintOf(certFile: string): string {
  return new X509Certificate(readFileSync(certFile)).fingerprint256;
}

/** A node's own TLS port: answers every request with the marker. */
async function nodeTlsServer(pair: { certFile: string; keyFile: string }): Promise<tls.Server> {
  const server = tls.createServer(
    { cert: readFileSync(pair.certFile), key: readFileSync(pair.keyFile) },
    (socket) =>
      socket.once('data', () =>
        socket.end(
          `HTTP/1.1 200 OK\r\ncontent-length: ${MARKER.length}\r\nconnection: close\r\n\r\n${MARKER}`,
        ),
      ),
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return server;
}

describe('TLS passthrough by SNI on the Node.js gateway', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pc2-passthrough-'));
  const registrar = KeyPair.generate();
  const edgeKey = KeyPair.generate();
  const superNodeKey = KeyPair.generate();
  const dora = KeyPair.generate();
  const rita = KeyPair.generate();
  const alice = KeyPair.generate();
  const records = new Map<string, ResolveResponse>();
  const gatewayCert = makeCertificate(dir, 'gateway');
  const nodeCert = makeCertificate(dir, 'node');
  let doraServer: tls.Server;
  let ritaServer: tls.Server;
  let direct: DirectNode;
  let tunnel: TunnelServer;
  let client: TunnelClient;
  let ingress: Ingress;
  let superNode: http.Server;
  let gateway: Gateway;
  let strict: Gateway;

  beforeAll(async () => {
    doraServer = await nodeTlsServer(nodeCert);
    ritaServer = await nodeTlsServer(nodeCert);
    direct = await new DirectNode().start();
    tunnel = await startServer();
    client = newClient(tunnel, 1, {
      deviceKey: rita,
      tlsOnly: true,
      tlsUpstream: { host: '127.0.0.1', port: (ritaServer.address() as AddressInfo).port },
    });
    client.start();
    await authenticated(client);
    ingress = createIngress({ tunnel, superNodeId: superNodeKey.id, edgeKeys: [edgeKey.id] });
    // The registry's resolve (records signed as the real ones are) and the real ingress.
    superNode = http.createServer((req, res) => {
      const name = decodeURIComponent((req.url ?? '').split('/').pop() ?? '');
      const record = records.get(name);
      if (req.url !== registryPaths.resolve(name) || !record) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(record));
    });
    superNode.on('upgrade', (req, socket, head) => ingress.handleUpgrade(req, socket, head));
    const superNodeUrl = `http://127.0.0.1:${await listen(superNode)}`;
    const now = Date.now();
    const add = async (
      name: string,
      key: KeyPair,
      route: Parameters<typeof signRoute>[0] extends infer R ? Partial<R> : never,
    ) => {
      const binding = await signBinding(
        { name, owner: key.id.toString(), boundAt: now - 1000 },
        registrar,
      );
      const jws = await signRoute(
        { name, relays: [], seq: 1, iat: now - 1000, exp: now + 3_600_000, ...route } as never,
        key,
      );
      records.set(name, { name, binding, route: jws });
    };
    const doraPort = (doraServer.address() as AddressInfo).port;
    await add('dora', dora, {
      mode: 'direct',
      endpoint: `https://127.0.0.1:${doraPort}`,
      tls: 'node',
    });
    await add('rita', rita, { mode: 'relay', relays: [superNodeKey.id.toString()], tls: 'node' });
    await add('alice', alice, { mode: 'direct', endpoint: direct.url });
    const common = {
      config: {
        zone: 'localhost',
        registrarKeys: [registrar.id.toString()],
        edgeKey: edgeKey.bosonPrivateKeyBase58(),
        superNodes: [{ id: superNodeKey.id.toString(), url: superNodeUrl }],
      },
      hostname: '127.0.0.1',
      httpsPort: 0,
      httpPort: null,
      tls: gatewayCert,
    };
    gateway = await startGateway({ ...common, allowPrivateTargets: true });
    strict = await startGateway(common);
  });

  afterAll(async () => {
    await gateway?.close();
    await strict?.close();
    ingress?.close();
    client?.stop();
    await tunnel?.stop();
    await close(superNode);
    await direct?.close();
    doraServer?.close();
    ritaServer?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('splices a direct private node: the client gets the node certificate and its reply', async () => {
    const before = gateway.passthrough!;
    const seen = await fetchOver(gateway.ports.https!, 'dora.localhost', 'dora.localhost');
    expect(seen.fingerprint).toBe(fingerprintOf(nodeCert.certFile));
    expect(seen.fingerprint).not.toBe(fingerprintOf(gatewayCert.certFile));
    expect(seen.body).toContain(MARKER);
    expect(gateway.passthrough!.passedThrough).toBe(before.passedThrough + 1);
    expect(gateway.passthrough!.terminated).toBe(before.terminated);
  });

  it('splices a relayed private node through the ingress raw TLS channel and the tunnel; the ingress parses none of it', async () => {
    const before = ingress.stats();
    const seen = await fetchOver(gateway.ports.https!, 'rita.localhost', 'rita.localhost');
    expect(seen.fingerprint).toBe(fingerprintOf(nodeCert.certFile));
    expect(seen.body).toContain(MARKER);
    const after = ingress.stats();
    expect(after.tlsChannels).toBe(before.tlsChannels + 1);
    expect(after.requests).toBe(before.requests);
  });

  it('terminates every other connection itself: a public name, no SNI, an unknown name', async () => {
    const before = gateway.passthrough!;
    const aliceSeen = await fetchOver(gateway.ports.https!, 'alice.localhost', 'alice.localhost');
    expect(aliceSeen.fingerprint).toBe(fingerprintOf(gatewayCert.certFile));
    expect(aliceSeen.body).toMatch(/^HTTP\/1\.1 200 /);
    const noSni = await fetchOver(gateway.ports.https!, undefined, 'alice.localhost');
    expect(noSni.fingerprint).toBe(fingerprintOf(gatewayCert.certFile));
    const ghost = await fetchOver(gateway.ports.https!, 'ghost.localhost', 'ghost.localhost');
    expect(ghost.body).toMatch(/^HTTP\/1\.1 404 /);
    expect(gateway.passthrough!.terminated).toBe(before.terminated + 3);
  });

  it('answers 421 to a private name asked over another name connection (HTTP/2 and HTTP/1.1)', async () => {
    const session = http2.connect(`https://127.0.0.1:${gateway.ports.https}`, {
      servername: 'alice.localhost',
      rejectUnauthorized: false,
    });
    try {
      const answer = await new Promise<{ status: number; code: string }>((resolve, reject) => {
        const req = session.request({ ':authority': 'dora.localhost', ':path': '/' });
        req.on('response', (h) =>
          resolve({ status: Number(h[':status']), code: String(h['x-pc2-error']) }),
        );
        req.on('error', reject);
        req.end();
      });
      expect(answer).toEqual({ status: 421, code: 'PRIVATE_NAME' });
    } finally {
      session.close();
    }
    const h1 = await fetchOver(gateway.ports.https!, 'alice.localhost', 'rita.localhost');
    expect(h1.body).toMatch(/^HTTP\/1\.1 421 /);
    expect(h1.body).not.toContain(MARKER);
  });

  it('does not splice to a private address unless allowed: the connection is closed', async () => {
    const before = strict.passthrough!;
    await expect(
      fetchOver(strict.ports.https!, 'dora.localhost', 'dora.localhost'),
    ).rejects.toThrow();
    expect(strict.passthrough!.failed).toBe(before.failed + 1);
    // A relayed private node goes through its super node, whatever the address rule.
    const seen = await fetchOver(strict.ports.https!, 'rita.localhost', 'rita.localhost');
    expect(seen.body).toContain(MARKER);
  });
});
