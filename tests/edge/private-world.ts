/**
 * A world with private names for the passthrough suite, on loopback: dora (a direct private node, its
 * own TLS server), rita (a relayed private node behind a real tunnel server, client and ingress),
 * alice (a public direct node); one super node serving the registry's resolve and the real ingress.
 * The nodes' certificate and the gateway's are different self-signed *.localhost pairs.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import type { TunnelClient } from '../../agent/tunnel/index.ts';
import type { EdgeConfig } from '../../edge/config.ts';
import { createIngress, type Ingress } from '../../origin/ingress/index.ts';
import type { TunnelServer } from '../../origin/tunnel/index.ts';
import { KeyPair } from '../../shared/keys.ts';
import { registryPaths, type ResolveResponse } from '../../shared/records/api.ts';
import { signBinding } from '../../shared/records/binding.ts';
import { type RouteRecord, signRoute } from '../../shared/records/route.ts';
import { authenticated, newClient, startServer } from '../tunnel/harness.ts';
import { type CertificatePair, makeCertificate } from './certs.ts';
import { close, DirectNode, listen } from './origins.ts';

export const MARKER = 'marker-only-the-node-and-the-client-see';

export interface PrivateWorld {
  config: EdgeConfig;
  gatewayCert: CertificatePair & { cert: string; key: string };
  /** PEM of the nodes' own certificate. */
  nodeCert: string;
  ingress: Ingress;
  close(): Promise<void>;
}

/** A node's own TLS port: answers every request with the marker. */
async function nodeTlsServer(pair: CertificatePair): Promise<tls.Server> {
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

export async function createPrivateWorld(): Promise<PrivateWorld> {
  const dir = mkdtempSync(join(tmpdir(), 'pc2-private-'));
  const registrar = KeyPair.generate();
  const edgeKey = KeyPair.generate();
  const superNodeKey = KeyPair.generate();
  const rita = KeyPair.generate();
  const gatewayPair = makeCertificate(dir, 'gateway');
  const nodePair = makeCertificate(dir, 'node');
  const doraServer = await nodeTlsServer(nodePair);
  const ritaServer = await nodeTlsServer(nodePair);
  const direct = await new DirectNode().start();
  const tunnel: TunnelServer = await startServer();
  const client: TunnelClient = newClient(tunnel, 1, {
    deviceKey: rita,
    tlsOnly: true,
    tlsUpstream: { host: '127.0.0.1', port: (ritaServer.address() as AddressInfo).port },
  });
  client.start();
  await authenticated(client);
  const ingress = createIngress({ tunnel, superNodeId: superNodeKey.id, edgeKeys: [edgeKey.id] });
  const records = new Map<string, ResolveResponse>();
  // The registry's resolve (records signed as the real ones are) and the real ingress.
  const superNode = http.createServer((req, res) => {
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
    route: Pick<RouteRecord, 'mode'> & Partial<RouteRecord>,
  ) => {
    const binding = await signBinding(
      { name, owner: key.id.toString(), boundAt: now - 1000 },
      registrar,
    );
    const jws = await signRoute(
      { name, relays: [], seq: 1, iat: now - 1000, exp: now + 3_600_000, ...route },
      key,
    );
    records.set(name, { name, binding, route: jws });
  };
  const doraPort = (doraServer.address() as AddressInfo).port;
  await add('dora', KeyPair.generate(), {
    mode: 'direct',
    endpoint: `https://127.0.0.1:${doraPort}`,
    tls: 'node',
  });
  await add('rita', rita, { mode: 'relay', relays: [superNodeKey.id.toString()], tls: 'node' });
  await add('alice', KeyPair.generate(), { mode: 'direct', endpoint: direct.url });
  const gatewayCert = {
    ...gatewayPair,
    cert: readFileSync(gatewayPair.certFile, 'utf8'),
    key: readFileSync(gatewayPair.keyFile, 'utf8'),
  };
  return {
    config: {
      zone: 'localhost',
      registrarKeys: [registrar.id.toString()],
      edgeKey: edgeKey.bosonPrivateKeyBase58(),
      superNodes: [{ id: superNodeKey.id.toString(), url: superNodeUrl }],
      // alice, the public direct node, is on loopback.
      developerMode: true,
    },
    gatewayCert,
    nodeCert: readFileSync(nodePair.certFile, 'utf8'),
    ingress,
    async close() {
      ingress.close();
      client.stop();
      await tunnel.stop();
      await close(superNode);
      await direct.close();
      doraServer.close();
      ritaServer.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
