/**
 * The ingress's raw TLS channel: an authenticated Upgrade becomes a raw TLS stream to the node's TLS
 * terminator; the TLS session runs from the client to the node, and the ingress parses no HTTP of it.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TunnelClient } from '../../../agent/tunnel/index.ts';
import { KeyPair } from '../../../shared/keys.ts';
import { INGRESS_HEADERS, TLS_CHANNEL_UPGRADE } from '../../../shared/records/api.ts';
import { signEdgeToken } from '../../../shared/records/edge-token.ts';
import { type IngressServer, startIngressServer } from '../../../origin/ingress/index.ts';
import type { TunnelServer } from '../../../origin/tunnel/index.ts';
import { makeCertificate } from '../../edge/certs.ts';
import { authenticated, newClient, startServer } from '../../tunnel/harness.ts';

const MARKER = 'private-marker-7f3a';
const edge = KeyPair.generate();
const superNode = KeyPair.generate();
let dir: string;
let terminator: tls.Server;
let tunnel: TunnelServer;
let client: TunnelClient;
let stockClient: TunnelClient;
let ingress: IngressServer;
let cert: string;

/** Opens the channel; resolves with the socket after the 101, or with the refusal's head. */
function openChannel(
  headers: Record<string, string>,
): Promise<{ socket: net.Socket; head: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(ingress.address().port, '127.0.0.1');
    let data = '';
    socket.on('error', reject);
    socket.on('data', function onData(d: Buffer) {
      data += d.toString('latin1');
      const end = data.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      socket.pause();
      resolve({ socket, head: data });
    });
    const lines = [
      'GET / HTTP/1.1',
      'Host: 127.0.0.1',
      'Connection: Upgrade',
      `Upgrade: ${TLS_CHANNEL_UPGRADE}`,
      ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
    ];
    socket.write(lines.join('\r\n') + '\r\n\r\n');
  });
}

const edgeHeaders = async (node: KeyPair['id']) => ({
  [INGRESS_HEADERS.nodeId]: node.toString(),
  [INGRESS_HEADERS.edgeToken]: await signEdgeToken(edge, node, superNode.id, Date.now()),
  'x-forwarded-for': '198.51.100.7',
});

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pc2-tls-channel-'));
  const pair = makeCertificate(dir, 'node');
  cert = readFileSync(pair.certFile, 'utf8');
  terminator = tls.createServer(
    { cert, key: readFileSync(pair.keyFile), minVersion: 'TLSv1.3' },
    (socket) => {
      socket.once('data', () =>
        socket.end(`HTTP/1.1 200 OK\r\ncontent-length: ${MARKER.length}\r\n\r\n${MARKER}`),
      );
    },
  );
  await new Promise<void>((r) => terminator.listen(0, '127.0.0.1', r));
  tunnel = await startServer();
  const port = (terminator.address() as net.AddressInfo).port;
  client = newClient(tunnel, 1, { tlsUpstream: { host: '127.0.0.1', port }, tlsOnly: true });
  stockClient = newClient(tunnel, 1);
  client.start();
  stockClient.start();
  await Promise.all([authenticated(client), authenticated(stockClient)]);
  ingress = await startIngressServer({
    tunnel,
    superNodeId: superNode.id,
    edgeKeys: [edge.id],
    host: '127.0.0.1',
    port: 0,
  });
});
afterAll(async () => {
  await ingress?.close();
  client?.stop();
  stockClient?.stop();
  await tunnel?.stop();
  terminator?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('relay ingress: the raw TLS channel', () => {
  it('splices an authenticated channel to the node: TLS with the node, the reply read by the client only', async () => {
    const before = ingress.ingress.stats();
    const { socket, head } = await openChannel(await edgeHeaders(client.options.deviceKey.id));
    expect(head.split('\r\n')[0]).toBe('HTTP/1.1 101 Switching Protocols');
    const secure = tls.connect({ socket, servername: 'localhost', ca: cert });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', resolve);
      secure.once('error', reject);
    });
    expect(secure.authorized).toBe(true);
    secure.write('GET / HTTP/1.1\r\nhost: alice.localhost\r\n\r\n');
    let reply = '';
    for await (const chunk of secure) reply += chunk.toString();
    expect(reply).toContain(MARKER);
    const after = ingress.ingress.stats();
    expect(after.tlsChannels).toBe(before.tlsChannels + 1);
    expect(after.requests).toBe(before.requests);
    expect(after.upgrades).toBe(before.upgrades);
  });

  it('refuses a bad edge token (401) and a node whose tunnel client takes no TLS streams (502), marked as relay errors', async () => {
    const forged = await edgeHeaders(client.options.deviceKey.id);
    forged[INGRESS_HEADERS.edgeToken] = await signEdgeToken(
      KeyPair.generate(),
      client.options.deviceKey.id,
      superNode.id,
      Date.now(),
    );
    const bad = await openChannel(forged);
    expect(bad.head).toMatch(/^HTTP\/1\.1 401 /);
    expect(bad.head).toContain(`${INGRESS_HEADERS.relayError}: BAD_EDGE_TOKEN`);
    bad.socket.destroy();
    const stock = await openChannel(await edgeHeaders(stockClient.options.deviceKey.id));
    expect(stock.head).toMatch(/^HTTP\/1\.1 502 /);
    expect(stock.head).toContain(`${INGRESS_HEADERS.relayError}: NO_TLS_STREAMS`);
    stock.socket.destroy();
  });
});
